"""The ``costs`` task type: LLM usage priced into per-learner-day and per-model-hour buckets.

Both tables are keyed by the llm.usage record key (the learner), so a row is
written only by the worker that owns that key's partition, and they are
*global* tables: every worker reads every changelog partition, so the leader
can add up the whole day for ``cost.report`` and any worker answers
``GET /costs/`` without forwarding. Usage events are counted once by their id
(the buckets remember them), and every bucket carries its own ``expires_at``,
so the scheduled expiry (streams.expiry) prunes restored rows exactly like live
ones.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import faust
from faust.web import Request, Response, View

from domain.cost_buckets import add_usage, day_bucket, hour_bucket, prune
from domain.cost_report import grand_total, sum_days, sum_models
from domain.pricing import PriceTable, load_prices, price_usage
from schemas.envelope import Envelope, ordering_key
from schemas.events import CostReport, LlmUsage
from schemas.tasks import task_id
from streams.declarations import StrKeyGlobalTable
from streams.expiry import key_partition
from streams.results import publish_result
from streams.runtime import Runtime
from streams.tasks import Priority, TaskContext, TaskType, misrouted
from streams.timers import guarded_timer


async def handle_costs(
    envelope: Envelope[Any],
    context: TaskContext,
    *,
    days: MutableMapping[str, Any],
    hours: MutableMapping[str, Any],
    prices: PriceTable,
    zone: ZoneInfo,
    day_retention: timedelta,
    hour_retention: timedelta,
) -> str:
    """Price one call into its learner's day and its model's hour; a redelivered call counts once."""
    usage = envelope.data
    if not isinstance(usage, LlmUsage):
        raise misrouted("costs", envelope)
    # UnknownModelError propagates: the task is dead-lettered (max_attempts=1) with the model named.
    priced = price_usage(prices, usage.model, usage.prompt_tokens, usage.completion_tokens)
    key = ordering_key(envelope)
    day = day_bucket(envelope.ts, zone)
    row = (days.get(key) or {"buckets": {}})["buckets"]
    bucket = add_usage(
        row.get(day.key), usage_id=envelope.id, usage=priced, window=day, retention=day_retention
    )
    days[key] = {"buckets": {**row, day.key: bucket}}
    hour = hour_bucket(envelope.ts)
    slot = f"{usage.model}@{hour.key}"
    row = (hours.get(key) or {"buckets": {}})["buckets"]
    hourly = add_usage(
        row.get(slot), usage_id=envelope.id, usage=priced, window=hour, retention=hour_retention
    )
    hours[key] = {"buckets": {**row, slot: hourly}}
    return f"cost_user_day/{key}/{day.key}"


def install(rt: Runtime) -> tuple[faust.Table, faust.Table]:
    settings = rt.settings
    days = rt.table(
        "cost_user_day",
        rt.topics.cost_user_day_changelog,
        help="Per learner: cost buckets per local calendar day.",
        table_class=StrKeyGlobalTable,
    )
    hours = rt.table(
        "cost_model_hour",
        rt.topics.cost_model_hour_changelog,
        help="Per learner: cost buckets per model and UTC hour ('model@YYYY-MM-DDTHH').",
        table_class=StrKeyGlobalTable,
    )
    prices = load_prices(settings.price_table)
    zone = ZoneInfo(settings.cost_timezone)
    costs = partial(
        handle_costs,
        days=days,
        hours=hours,
        prices=prices,
        zone=zone,
        day_retention=timedelta(days=settings.cost_day_retention_days),
        hour_retention=timedelta(days=settings.cost_hour_retention_days),
    )
    # Pricing is deterministic: a retry cannot turn an unknown model into a known one.
    rt.add_task_types([TaskType("costs", costs, priority=Priority.LOW, max_attempts=1, timeout_s=10.0)])

    def expire_buckets(row: dict[str, Any], now: datetime) -> dict[str, Any] | None:
        kept = prune(row["buckets"], now)
        if len(kept) == len(row["buckets"]):
            return row
        return {"buckets": kept} if kept else None

    # Rows are written while processing llm.usage (live or replayed), keyed by the learner.
    learner_partition = key_partition(rt.topics.llm_usage)
    rt.expiry.register(days, expire_buckets, learner_partition)
    rt.expiry.register(hours, expire_buckets, learner_partition)

    reported: set[str] = set()

    def report(day: str, *, complete: bool) -> CostReport:
        by_user = sum_days(((k, v["buckets"]) for k, v in days.items()), day, day)
        by_model = sum_models((v["buckets"] for v in hours.values()), day)
        return CostReport(
            day=day,
            currency=prices.currency,
            generated_at=datetime.now(UTC),
            complete=complete,
            totals=grand_total(by_user.values()),
            by_user=by_user,
            by_model=by_model,
        )

    @guarded_timer(rt.app, settings.cost_report_interval_s, on_leader=True, name="cost_report")
    async def daily_report() -> None:
        today = datetime.now(zone).date()
        yesterday = (today - timedelta(days=1)).isoformat()
        if yesterday not in reported:
            # A finished day's report has a fixed id, so a leader change re-publishing it is recognisable.
            event_id = task_id("cost.report", yesterday)
            await publish_result(
                rt, rt.topics.cost_reports, report(yesterday, complete=True), event_id=event_id
            )
            reported.add(yesterday)
        await publish_result(
            rt,
            rt.topics.cost_reports,
            report(today.isoformat(), complete=False),
            event_id=task_id("cost.report.partial", f"{today}/{datetime.now(UTC).isoformat()}"),
        )

    @rt.page("/costs/")
    async def cost_totals(web: View, request: Request) -> Response:
        user = request.query.get("user") or None
        today = datetime.now(zone).date().isoformat()
        first = request.query.get("from") or today
        last = request.query.get("to") or first
        try:
            date.fromisoformat(first), date.fromisoformat(last)
        except ValueError:
            return web.json({"detail": "from and to must be ISO dates", "reason": "bad_date"}, status=400)
        rows = ((k, v["buckets"]) for k, v in days.items() if user is None or k == user)
        by_user = sum_days(rows, first, last)
        body: dict[str, Any] = {
            "user": user,
            "from": first,
            "to": last,
            "currency": prices.currency,
            "total": grand_total(by_user.values()),
            "by_user": by_user,
        }
        if user is not None:
            buckets = (days.get(user) or {"buckets": {}})["buckets"]
            body["by_day"] = [
                {k: v for k, v in b.items() if k != "usage_ids"}
                for d, b in sorted(buckets.items())
                if first <= d <= last
            ]
        return web.json(body)

    return days, hours
