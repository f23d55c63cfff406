"""``feynman dev``: the whole pipeline on this machine, stopped by one Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from types import FrameType

import click

from compose.local_broker import LocalBroker, broker_answers
from compose.processes import Child, api_command, wait_http, worker_command
from foundation.errors import FeynmanError
from foundation.settings import Settings
from kafka_io.topic_admin import ensure_topics, raise_on_mismatch
from producers.security import check_bind_address
from schemas.topics import Topics


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _check_local_bootstrap(settings: Settings) -> None:
    """Start a local broker only where the bootstrap says one should be."""
    local = {f"{host}:{settings.broker_port}" for host in ("localhost", "127.0.0.1")}
    if settings.bootstrap_servers and set(settings.bootstrap_servers) <= local:
        return
    raise FeynmanError(
        f"no broker answers at {settings.kafka_bootstrap}, and it is not the local broker's address "
        f"(127.0.0.1:{settings.broker_port}); start that broker or fix FEYNMAN_KAFKA_BOOTSTRAP"
    )


def run_dev(settings: Settings, *, ready_timeout: float = 120.0) -> int:
    """Start broker (if none answers), topics, worker and API; block until Ctrl-C."""
    # The API would refuse a non-loopback FEYNMAN_API_HOST anyway; say so before starting anything.
    check_bind_address(settings)
    started = time.monotonic()
    broker: LocalBroker | None = None
    children: list[Child] = []
    previous = {s: signal.signal(s, _raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if not broker_answers(settings.kafka):
            _check_local_bootstrap(settings)
            click.echo(f"no broker at {settings.kafka_bootstrap}: starting the local KRaft broker ...")
            broker = LocalBroker.from_settings(settings)
            broker.start()
        reports = asyncio.run(ensure_topics(settings.kafka, Topics.from_settings(settings).all()))
        for report in reports:
            click.echo(f"  topic {report.line()}")
        raise_on_mismatch(reports)
        env = {**os.environ, **settings.as_env()}
        logs = settings.data_dir / "logs"
        worker = Child.spawn("worker", worker_command(), env, logs)
        children.append(worker)
        api = Child.spawn("api", api_command(settings.api_host, settings.api_port), env, logs)
        children.append(api)
        api_url = f"http://{settings.api_host}:{settings.api_port}"
        worker_url = settings.worker_base_url
        for child, url in ((worker, worker_url + "/health/"), (api, api_url + "/healthz")):
            if not wait_http(url, child, ready_timeout):
                raise FeynmanError(
                    f"{child.name} did not come up; last lines of {child.log_path}:\n{child.tail()}"
                )
        click.echo(
            f"ready in {time.monotonic() - started:.1f}s\n"
            f"  API         {api_url}   (OpenAPI docs: {api_url}/docs)\n"
            f"  web view    {api_url}/ui/   (task status, lag, dead letters)\n"
            f"  worker web  {worker_url}   (task status: {worker_url}/tasks/<task_id>/)\n"
            f"  Kafka       {settings.kafka_bootstrap}\n"
            f"  logs        {logs}/\n"
            "Ctrl-C stops everything."
        )
        while all(c.alive() for c in children):
            time.sleep(0.5)
        dead = next(c for c in children if not c.alive())
        click.echo(
            f"{dead.name} exited ({dead.process.returncode}); stopping. Last lines:\n{dead.tail()}", err=True
        )
        return 1
    except _Stop:
        click.echo("stopping ...")
        return 0
    finally:
        # Further Ctrl-C presses must not interrupt the cleanup itself.
        for s in previous:
            signal.signal(s, signal.SIG_IGN)
        for child in reversed(children):
            child.stop()
        if broker is not None:
            broker.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
        click.echo("stopped.")
