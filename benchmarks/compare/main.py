"""Entry of ``feynman bench compare``: the services, the run, the report."""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from benchmarks.compare.env import BenchEnv, redis_server
from benchmarks.compare.runner import ALL, Outcome, run
from benchmarks.compare.sizes import Sizes
from compose.processes import free_port
from foundation.errors import FeynmanError
from foundation.settings import Settings


@contextlib.contextmanager
def kafka(bootstrap: str | None, data: Path) -> Iterator[str]:
    """The broker at ``bootstrap`` if it answers, else a local one for this run."""
    from compose.local_broker import LocalBroker, broker_answers

    if bootstrap and broker_answers(bootstrap):
        yield bootstrap
        return
    broker = LocalBroker(free_port(), free_port(), data / "kafka", Settings().cache_dir)
    broker.start(timeout=120)
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


def _progress(line: str) -> None:
    click.echo(line, err=True)


def compare(
    sizes: Sizes,
    repeats: int,
    bootstrap: str | None,
    workloads: tuple[str, ...] = ALL,
    after_repeat: Callable[[Outcome, int], None] | None = None,
) -> Outcome:
    if shutil.which("redis-server") is None:
        raise FeynmanError("redis-server is not installed (scripts/setup.sh installs it)")
    data = Path(tempfile.mkdtemp(prefix="feynman-compare-"))
    try:
        with kafka(bootstrap, data) as servers, redis_server(data / "redis") as redis_url:
            env = BenchEnv(bootstrap=servers, redis_url=redis_url, data_dir=data)
            return run(env, sizes, repeats, _progress, workloads, after_repeat)
    finally:
        if "--keep" not in sys.argv:
            shutil.rmtree(data, ignore_errors=True)
