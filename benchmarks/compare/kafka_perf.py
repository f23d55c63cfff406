"""Kafka's own perf tools against the same broker: the ceiling for workload (a).

``org.apache.kafka.tools.ProducerPerformance`` writes records of the size of
this pipeline's ``chat.turn`` envelope (acks=all, idempotent, as the pipeline
produces); ``ConsumerPerformance`` then reads them back with no work and no
commits. Their own timers start after the JVM is up, so start-up is not
counted; the consumer's figure is ``fetch.nMsg.sec``, which leaves out its
group join.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from benchmarks.compare.measurements import Figure
from foundation.settings import Settings

SYSTEM = "Kafka perf tools (broker ceiling)"
PRODUCER = "org.apache.kafka.tools.ProducerPerformance"
CONSUMER = "org.apache.kafka.tools.ConsumerPerformance"
# encode(new_envelope(ChatTurn(...))) of a benchmark job is 196 bytes.
RECORD_SIZE = 196
_RATE = re.compile(r"([\d.]+) records/sec")


def parse_producer(output: str) -> float:
    """Records/s from the summary line (the last ``records/sec`` in the output)."""
    rates = _RATE.findall(output)
    if not rates:
        raise RuntimeError(f"ProducerPerformance printed no rate:\n{output[-2000:]}")
    return float(rates[-1])


def parse_consumer(output: str) -> float:
    """``fetch.nMsg.sec`` from the CSV header and the line after it."""
    lines = [line for line in output.splitlines() if line.strip()]
    for i, line in enumerate(lines[:-1]):
        header = [c.strip() for c in line.split(",")]
        if "fetch.nMsg.sec" in header:
            return float(lines[i + 1].split(",")[header.index("fetch.nMsg.sec")])
    raise RuntimeError(f"ConsumerPerformance printed no figures:\n{output[-2000:]}")


def libs(settings: Settings) -> Path:
    from compose.local_broker import LocalBroker

    return LocalBroker(cache_dir=settings.cache_dir, version=settings.kafka_version).ensure_jars()


async def _java(libs_dir: Path, main: str, args: list[str]) -> str:
    from compose.local_broker import _java as java

    proc = await asyncio.create_subprocess_exec(
        java(),
        "-Xmx512m",
        "-cp",
        f"{libs_dir}/*",
        main,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{main} exited {proc.returncode}:\n{out.decode()[-2000:]}")
    return out.decode()


async def run(bootstrap: str, records: int, partitions: int, *, repeat: int) -> list[Figure]:
    topic = f"bench-perf-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
        jars = libs(Settings())
        produced = await _java(
            jars,
            PRODUCER,
            [
                *("--topic", topic, "--num-records", str(records), "--record-size", str(RECORD_SIZE)),
                *("--throughput", "-1", "--producer-props", f"bootstrap.servers={bootstrap}", "acks=all"),
            ],
        )
        consumed = await _java(
            jars,
            CONSUMER,
            [
                *("--bootstrap-server", bootstrap, "--topic", topic),
                *("--messages", str(records), "--timeout", "60000"),
            ],
        )
        await admin.delete_topics([topic])
    finally:
        await admin.close()
    return [
        Figure("throughput", SYSTEM, "submit/s", parse_producer(produced), repeat=repeat),
        Figure("throughput", SYSTEM, "tasks/s", parse_consumer(consumed), repeat=repeat),
    ]


def note(records: int, partitions: int) -> str:
    return (
        f"{SYSTEM}: ProducerPerformance sends {records:,} records of {RECORD_SIZE} bytes "
        f"(a benchmark chat.turn envelope) to a {partitions}-partition topic with acks=all, "
        "shown as submit/s; ConsumerPerformance reads them back with no work and no commits "
        "(fetch.nMsg.sec, group join excluded), shown as tasks/s. No system that does work "
        "per record and commits can beat these."
    )
