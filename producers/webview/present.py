"""The read model's contents as the JSON endpoints return them."""

from __future__ import annotations

from datetime import datetime, timedelta

from producers.api_models import TaskRecord
from producers.webview.dead_letters import Letter
from producers.webview.lag import PartitionLag
from producers.webview.read_model import ReadModel
from producers.webview.view_models import (
    DeadLetterOut,
    LagReport,
    PartitionLagOut,
    ReadModelState,
    Stats,
    Summary,
    ThroughputSeries,
    TypeLatency,
    TypeStatusCount,
)
from schemas.envelope import rfc3339


def task_record(record: dict[str, object]) -> TaskRecord:
    return TaskRecord.model_validate({"retry_count": 0, **record})


def summary(model: ReadModel) -> Summary:
    tasks, progress = model.tasks, model.progress
    return Summary(
        by_status=tasks.by_status(),
        by_type=tasks.by_type(),
        by_type_status=[
            TypeStatusCount(task_type=t, status=s, count=n) for (t, s), n in sorted(tasks.counts().items())
        ],
        tasks_kept=len(tasks),
        tasks_capacity=tasks.capacity,
        tasks_evicted=tasks.evicted,
        dead_letters_seen=model.dead_letters.total,
        read_model=ReadModelState(
            connected=progress.connected,
            error=progress.error,
            records_read=progress.records,
            records_behind=progress.behind,
            undecodable=progress.undecodable,
        ),
    )


def stats(model: ReadModel, now: datetime, minutes: int) -> Stats:
    latency = model.finishes.latency(now, timedelta(minutes=minutes))
    throughput = model.finishes.throughput(now, minutes)
    return Stats(
        window_minutes=minutes,
        latency=[
            TypeLatency(
                task_type=t,
                count=lat.count,
                p50_s=lat.percentiles[50],
                p95_s=lat.percentiles[95],
                p99_s=lat.percentiles[99],
            )
            for t, lat in latency.items()
        ],
        throughput=ThroughputSeries(
            minutes=[rfc3339(m) for m in throughput.minutes], per_type=throughput.per_type
        ),
    )


def lag_report(group: str, rows: list[PartitionLag], error: str | None = None) -> LagReport:
    return LagReport(
        group=group,
        total_lag=sum(r.lag or 0 for r in rows),
        partitions=[
            PartitionLagOut(topic=r.topic, partition=r.partition, committed=r.committed, end=r.end, lag=r.lag)
            for r in rows
        ],
        error=error,
    )


def dead_letter(letter: Letter) -> DeadLetterOut:
    d = letter.letter
    return DeadLetterOut(
        id=letter.id,
        at=rfc3339(letter.at),
        partition=letter.partition,
        offset=letter.offset,
        reason=d.reason,
        error=d.error,
        origin_topic=d.origin_topic,
        origin_partition=d.origin_partition,
        origin_offset=d.origin_offset,
        original_key=d.original_key,
        original_size=len(letter.original()),
        original_preview=letter.preview(),
        event_id=d.event_id,
        event_type=d.event_type,
        task_type=d.task_type,
        task_id=d.task_id,
        attempts=d.attempts,
        traceback=d.traceback,
    )
