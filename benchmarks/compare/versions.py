"""Versions the report records: Python packages, the Kafka broker, Redis, Java."""

from __future__ import annotations

import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from benchmarks.compare.env import redis_version

PACKAGES = (
    "faust-streaming",
    "aiokafka",
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "celery",
    "kombu",
    "rq",
    "redis",
    "rocksdict",
    "orjson",
    "pydantic",
)


def packages() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return ", ".join(found)


def kafka_broker() -> str:
    """The Kafka release of the broker process(es) running on this machine, read from their jars.

    The Kafka protocol does not tell a client the broker's release; a broker on
    another machine is reported as unknown.
    """
    seen = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"kafka.Kafka" not in argv or b"-cp" not in argv:
            continue
        classpath = argv[argv.index(b"-cp") + 1].decode()
        for entry in classpath.split(":"):
            for jar in Path(entry.removesuffix("*")).glob("kafka_2.13-*.jar"):
                seen.add(jar.stem.removeprefix("kafka_2.13-"))
    return ", ".join(sorted(seen)) or "unknown (no broker process on this machine)"


def java() -> str:
    out = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    return (out.stderr or out.stdout).splitlines()[0] if (out.stderr or out.stdout) else "unknown"


def collect() -> dict[str, str]:
    return {
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "Python packages": packages(),
        "Kafka broker (single node, KRaft)": kafka_broker(),
        "Redis server": redis_version(),
        "Java (broker and perf tools)": java(),
    }
