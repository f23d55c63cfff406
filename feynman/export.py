"""``feynman export``: a learner's history from the topics, as JSON lines or CSV rows.

Reads the conversations, analysis and memories topics from their start up to the
end offsets seen when the export began (so it terminates while traffic goes on),
keeps the records of one learner (and topic), and flattens each into one row:
nested fields become dotted columns (``report.clarity``, ``digest.summary``), so a
CSV has one flat row per turn, analysis or memory. Lists become JSON text in CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

import orjson
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from foundation.errors import DecodeError
from foundation.settings import Settings
from kafka_io.connection import client_options
from kafka_io.topic_reading import reading_from_start
from schemas.envelope import decode, rfc3339
from schemas.events import AnalysisCompleted, ChatTurn, MemoryConsolidated
from schemas.topics import Topics

Progress = Callable[[int, int], None]  # (records read so far, total to read)


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys; everything else kept as is."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def row_for(record_value: bytes, user: str, topic: str | None) -> dict[str, Any] | None:
    """The export row of one record, or None if it is not the learner's (or not readable)."""
    try:
        envelope = decode(record_value)
    except DecodeError:
        return None
    data = envelope.data
    if isinstance(data, ChatTurn):
        learner, kind = data.user_id, "turn"
    elif isinstance(data, AnalysisCompleted | MemoryConsolidated):
        learner, kind = (
            data.user_id or data.learner_id,
            "analysis" if isinstance(data, AnalysisCompleted) else "memory",
        )
    else:
        return None
    if learner != user or (topic is not None and data.topic.casefold() != topic.casefold()):
        return None
    payload = data.model_dump(mode="json", exclude_none=True)
    if isinstance(data, MemoryConsolidated):
        payload.pop("explanations", None)  # the turns are exported as turns
    return {"kind": kind, "event_id": envelope.id, "ts": rfc3339(envelope.ts), **flatten(payload)}


async def history(
    settings: Settings, user: str, topic: str | None = None, progress: Progress | None = None
) -> AsyncIterator[dict[str, Any]]:
    """The learner's rows, topic by topic, each topic in partition order."""
    topics = Topics.from_settings(settings)
    names = [topics.conversations.name, topics.analysis_results.name, topics.memories.name]
    tps = await _partitions(settings, names)
    if not tps:
        return
    async with reading_from_start(settings.kafka, tps) as consumer:
        # The helper has positioned every partition at its log start: no second request.
        starts = {tp: await consumer.position(tp) for tp in tps}
        ends = await consumer.end_offsets(tps)
        total = sum(ends[tp] - starts[tp] for tp in tps)
        remaining = {tp for tp in tps if ends[tp] > starts[tp]}
        done = 0
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        break
                    done += 1
                    row = row_for(record.value, user, topic)
                    if row is not None:
                        yield row
            for tp in list(remaining):
                # The position, not the last record's offset: a transaction's
                # commit marker or a compacted record leaves the end offset
                # with no record at end - 1.
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
                    consumer.pause(tp)
            if progress:
                progress(done, total)


async def _partitions(settings: Settings, names: list[str]) -> list[TopicPartition]:
    """The partitions of the topics that exist (a consumer with no subscription knows none)."""
    admin = AIOKafkaAdminClient(**client_options(settings.kafka))
    await admin.start()
    try:
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    return [
        TopicPartition(t["topic"], p["partition"])
        for t in described
        if not t.get("error_code")
        for p in t["partitions"]
    ]


def to_jsonl(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(orjson.dumps(r).decode() + "\n" for r in rows)


# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and carriage
# return, strips them and then may): learners' text is exported, so it must stay text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(rows: list[dict[str, Any]]) -> str:
    """One column per field any row has, in first-seen order; lists as JSON text; formulas defused.

    Numbers stay numbers (a negative one is no formula); every text cell, the header
    included, is escaped, since field names come from payloads too (``report.<anything>``).
    """
    columns = list(dict.fromkeys(k for r in rows for k in r))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        cells = (row.get(c, "") for c in columns)
        writer.writerow([safe_cell(orjson.dumps(v).decode() if isinstance(v, list) else v) for v in cells])
    return out.getvalue()
