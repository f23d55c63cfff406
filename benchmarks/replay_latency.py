"""Live events' end-to-end latency with and without a concurrent replay (figures, not a test).

What the replay lane promises (docs/architecture.md: "live traffic keeps its latency
while a replay or backfill runs"), measured on a real broker and a real
worker (``streams.app``, the ``transcript`` task type):

1. ``--events`` chat turns are published before the worker starts (the
   history), and the worker's group is committed past them: history that was
   processed long ago, without spending hours processing it here first.
2. Baseline: live turns at ``--rate`` per second for ``--duration`` seconds;
   latency = from the send until the task's ``completed`` status is read
   back from the task-status topic.
3. The same live load while ``feynman replay`` (its engine, in-process)
   replays the whole history into the replay lane; the worker reruns every
   replayed task as a new generation.

Prints p50/p99 of both runs, their ratio, and the replay's throughput::

    python -m benchmarks.replay_latency --bootstrap 127.0.0.1:19092 --events 100000
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import click
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from compose.processes import Child, child_env, free_port, worker_command
from foundation.settings import Settings
from kafka_io.connection import client_options
from kafka_io.topic_admin import ensure_topics, raise_on_mismatch
from producers.publisher import Publisher
from producers.replay.replayer import plan, run
from producers.replay.selection import Selection
from schemas import ChatTurn, decode, new_envelope, task_id
from schemas.events import TaskStatusChanged
from schemas.topics import Topics

HISTORY_SESSIONS = 500


@dataclass
class Completions:
    """When each (task id, generation) was first seen completed, on this machine's clock."""

    seen: dict[tuple[str, str | None], float] = field(default_factory=dict)

    async def follow(self, settings: Settings, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            Topics.from_settings(settings).task_status.name,
            **client_options(settings.kafka),
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=50)
                now = time.perf_counter()
                for records in batch.values():
                    for r in records:
                        change = decode(r.value).data
                        if isinstance(change, TaskStatusChanged) and change.status == "completed":
                            self.seen.setdefault((change.task_id, change.replay_id), now)
        finally:
            await consumer.stop()

    def count(self, tids: list[str], generation: str | None) -> int:
        return sum(1 for tid in tids if (tid, generation) in self.seen)


async def live_load(
    publisher: Publisher, done: Completions, rate: float, duration: float, tag: str
) -> list[float]:
    """Open-loop live turns; returns each one's latency in ms (from its scheduled send)."""
    sent: list[tuple[str, float]] = []
    start = time.perf_counter()
    n = 0
    while (due := start + n / rate) < start + duration:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        envelope = new_envelope(
            ChatTurn(session_id=f"live-{tag}-{n % 50}", topic="t", user_input=f"live {n}")
        )
        await publisher.publish(envelope)
        sent.append((task_id("transcript", envelope.id), due))
        n += 1
    deadline = time.perf_counter() + 60
    while done.count([t for t, _ in sent], None) < len(sent) and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    return [(done.seen[t, None] - at) * 1000 for t, at in sent if (t, None) in done.seen]


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 1 else float("nan")


async def publish_history(settings: Settings, events: int) -> list[str]:
    """The history's transcript task ids; the worker's group is committed past it (already processed)."""
    topics = Topics.from_settings(settings)
    raise_on_mismatch(await ensure_topics(settings.kafka, topics.all()))
    publisher = Publisher(settings)
    await publisher.start()
    history: list[str] = []
    try:
        with click.progressbar(range(0, events, 1000), label=f"publishing {events:,} history events") as bar:
            for i in bar:
                chunk = [
                    new_envelope(
                        ChatTurn(session_id=f"h{j % HISTORY_SESSIONS}", topic="t", user_input=f"h {j}")
                    )
                    for j in range(i, min(events, i + 1000))
                ]
                await publisher.publish_all(chunk)
                history += [task_id("transcript", e.id) for e in chunk]
    finally:
        await publisher.stop()
    group = AIOKafkaConsumer(
        **client_options(settings.kafka), group_id=settings.app_id, enable_auto_commit=False
    )
    await group.start()
    try:
        name = topics.conversations.name
        tps = [TopicPartition(name, p) for p in range(topics.conversations.partitions)]
        group.assign(tps)
        await group.commit(await group.end_offsets(tps))
    finally:
        await group.stop()
    return history


async def measure(settings: Settings, history: list[str], rate: float, duration: float) -> None:
    done, stop = Completions(), asyncio.Event()
    follower = asyncio.create_task(done.follow(settings, stop))
    publisher = Publisher(settings)
    await publisher.start()
    try:
        base = await live_load(publisher, done, rate, duration, "a")

        checkpoint = await plan(settings, Selection(source="conversations"), settings.replay_checkpoint_dir)
        replay_started = time.perf_counter()
        replaying = asyncio.create_task(run(settings, checkpoint))
        await asyncio.sleep(1.0)
        during = await live_load(publisher, done, rate, duration, "b")
        replay_sent = await replaying
        sent_s = time.perf_counter() - replay_started
        rerun = done.count(history, checkpoint.replay_id)
        click.echo(
            f"replay: {replay_sent.sent} events sent in {sent_s:.1f} s; "
            f"{rerun} of {len(history)} reruns completed when the live run ended"
        )
    finally:
        stop.set()
        await follower
        await publisher.stop()
    b50, b99, d50, d99 = pct(base, 0.5), pct(base, 0.99), pct(during, 0.5), pct(during, 0.99)
    click.echo(f"live only        n={len(base):5d}  p50 {b50:8.1f} ms  p99 {b99:8.1f} ms")
    click.echo(f"live + replay    n={len(during):5d}  p50 {d50:8.1f} ms  p99 {d99:8.1f} ms")
    click.echo(f"p99 ratio (with replay / without): {d99 / b99:.2f}")


@click.command()
@click.option("--bootstrap", envvar="FEYNMAN_KAFKA_BOOTSTRAP", default="localhost:9092", show_default=True)
@click.option("--events", default=100_000, show_default=True, help="History size, replayed in full.")
@click.option("--rate", default=20.0, show_default=True, help="Live events per second.")
@click.option("--duration", default=20.0, show_default=True, help="Seconds of live load per run.")
def main(bootstrap: str, events: int, rate: float, duration: float) -> None:
    """Live p50/p99 with and without a concurrent replay; a fresh topic prefix each time."""
    name = f"bench{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            kafka_bootstrap=bootstrap,
            topic_prefix=name,
            app_id=name,
            data_dir=Path(tmp),
            topic_partitions=4,
            worker_web_port=free_port(),
        )
        history = asyncio.run(publish_history(settings, events))
        env = child_env(settings)
        worker = Child.spawn("worker", worker_command("warn"), env, Path(tmp) / "logs")
        try:
            _wait_ready(settings, worker)
            asyncio.run(measure(settings, history, rate, duration))
        finally:
            worker.stop()


def _wait_ready(settings: Settings, worker: Child, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not worker.alive():
            raise click.ClickException(f"worker exited:\n{worker.tail(30)}")
        try:
            if httpx.get(f"{settings.worker_base_url}/health/", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise click.ClickException(f"worker not ready after {timeout} s")


if __name__ == "__main__":
    main()
