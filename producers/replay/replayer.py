"""Running a replay: read the source range, convert, send in batches, checkpoint.

Each batch is submitted in source order (so each partition's copies keep
their order), then every ack is awaited, then the checkpoint moves past the
batch: the checkpoint never runs ahead of what Kafka holds.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.structs import ConsumerRecord

from foundation.settings import Settings
from producers.publisher import Published, Publisher
from producers.replay.checkpoint import Checkpoint, checkpoint_path
from producers.replay.convert import Converted, Converter
from producers.replay.pacing import Pacer
from producers.replay.reader import SourceReader
from producers.replay.selection import Selection
from schemas.envelope import new_event_id
from schemas.topics import Topics

SAMPLE_SIZE = 5
# Called after each batch with (source records done in it, events sent so far).
Progress = Callable[[int, int], None]


@dataclass
class Summary:
    replay_id: str
    scanned: int = 0
    sent: int = 0
    # (event type, source partition) → records selected (sent, or in a dry run to be sent).
    selected: Counter[tuple[str, int]] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    targets: Counter[str] = field(default_factory=Counter)
    samples: list[Converted] = field(default_factory=list)
    stopped_at_limit: bool = False
    finished: bool = False

    @property
    def selected_total(self) -> int:
        return sum(self.selected.values())


async def plan(settings: Settings, selection: Selection, directory: Path) -> Checkpoint:
    """A new replay of ``selection``: a fresh replay id and the offset ranges as of now."""
    topic = selection.spec(Topics.from_settings(settings)).name
    async with SourceReader(settings, topic) as reader:
        ranges = await reader.ranges(selection)
    replay_id = new_event_id()  # UUIDv7: a later replay sorts later (the status fold's generations)
    return Checkpoint(replay_id, selection, ranges, path=checkpoint_path(directory, replay_id))


async def run(
    settings: Settings,
    checkpoint: Checkpoint,
    *,
    dry_run: bool = False,
    rate: float | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Send what ``checkpoint`` has left (nothing in a ``dry_run``); stop early after ``limit`` sends."""
    topics = Topics.from_settings(settings)
    convert = Converter(checkpoint.selection, topics, checkpoint.replay_id)
    summary = Summary(checkpoint.replay_id)
    pacer = Pacer(None if dry_run else rate)
    publisher = None if dry_run else Publisher(settings)
    try:
        async with aclosing(_batches(settings, checkpoint)) as batches:
            async for batch in batches:
                done, acks = [], []
                for record in batch:
                    item = convert(record)
                    if item.resend is not None:
                        if limit is not None and summary.sent + len(acks) >= limit:
                            summary.stopped_at_limit = True
                            break
                        acks.append(await _submit(publisher, pacer, item))
                    done.append(item)
                await asyncio.gather(*(a for a in acks if a is not None))
                _count(summary, done)
                if not dry_run:
                    _advance(checkpoint, done)
                    checkpoint.save()
                if progress is not None:
                    progress(len(done), summary.sent)
                if summary.stopped_at_limit:
                    break
        if not summary.stopped_at_limit and not dry_run:
            # Gaps (deleted or compacted offsets) at a range's end are done too.
            checkpoint.next = {p: end for p, (_, end) in checkpoint.ranges.items()}
            checkpoint.save()
        summary.finished = checkpoint.finished
        return summary
    finally:
        if publisher is not None:
            await publisher.stop()


async def _batches(settings: Settings, checkpoint: Checkpoint) -> AsyncIterator[list[ConsumerRecord]]:
    remaining = checkpoint.remaining()
    if not remaining:
        return  # a finished replay resumed: no consumer at all (one stopped unused trips aiokafka)
    topic = checkpoint.selection.spec(Topics.from_settings(settings)).name
    async with SourceReader(settings, topic) as reader:
        async for batch in reader.read(remaining):
            yield batch


async def _submit(publisher: Publisher | None, pacer: Pacer, item: Converted) -> Awaitable[Published] | None:
    if publisher is None or item.resend is None:
        return None
    await pacer.wait()
    resend = item.resend
    return await publisher.submit_raw(resend.topic, resend.value, key=resend.key)


def _count(summary: Summary, done: list[Converted]) -> None:
    summary.scanned += len(done)
    for item in done:
        if item.resend is None:
            summary.skipped[item.skipped or "skipped"] += 1
            continue
        summary.sent += 1
        summary.selected[item.kind, item.partition] += 1
        summary.targets[item.resend.topic] += 1
        if len(summary.samples) < SAMPLE_SIZE:
            summary.samples.append(item)


def _advance(checkpoint: Checkpoint, done: list[Converted]) -> None:
    for item in done:
        checkpoint.next[item.partition] = max(checkpoint.position(item.partition), item.offset + 1)
    checkpoint.sent += sum(1 for item in done if item.resend is not None)
