"""The ``feynman`` command (docs/architecture.md, contract 4).

Every failure the project raises on purpose ends as one line on stderr and a
non-zero exit code; tracebacks are for bugs.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from feynman.replay_cli import replay
from foundation.errors import FeynmanError
from foundation.settings import Settings, get_settings

F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FeynmanError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Feynman event pipeline: local broker, topics, worker, API and tools.

    Configured by FEYNMAN_* environment variables (see docs/configuration.md).
    """


@cli.command()
@one_line_errors
def dev() -> None:
    """Broker (if none answers), topics, worker and API; Ctrl-C stops them all."""
    from feynman.dev import run_dev

    sys.exit(run_dev(get_settings()))


@cli.group()
def broker() -> None:
    """The local single-node KRaft broker (no Docker needed)."""


@broker.command("start")
@click.option("--timeout", default=90.0, show_default=True, help="Seconds to wait until it answers.")
@click.option(
    "--secure",
    is_flag=True,
    help="Listen for SASL_SSL (a SCRAM-SHA-512 user, a self-signed CA); `feynman broker env` says how.",
)
@one_line_errors
def broker_start(timeout: float, secure: bool) -> None:
    """Resolve the Kafka jars (once), format storage (once) and start the broker."""
    from compose.local_broker import LocalBroker

    settings = get_settings()
    b = LocalBroker.from_settings(
        settings.model_copy(update={"broker_secure": settings.broker_secure or secure})
    )
    b.start(timeout=timeout)
    st = b.status()
    kind = "SASL_SSL" if b.secure else "plaintext"
    click.echo(f"broker running (pid {st.pid}) at {st.bootstrap} ({kind}), data in {st.data_dir}")


@broker.command("env")
@one_line_errors
def broker_env() -> None:
    """Print the FEYNMAN_KAFKA_* lines that connect the pipeline to the local broker (eval-able)."""
    from compose.local_broker import LocalBroker

    b = LocalBroker.from_settings(get_settings())
    env = b.secrets.env(b.bootstrap) if b.secure else {"FEYNMAN_KAFKA_BOOTSTRAP": b.bootstrap}
    for name, value in env.items():
        click.echo(f"export {name}={shlex.quote(value)}")


@broker.command("install")
@one_line_errors
def broker_install() -> None:
    """Download the Kafka jars into the cache now (start does it when needed)."""
    from compose.local_broker import LocalBroker

    click.echo(f"Kafka jars in {LocalBroker.from_settings(get_settings()).ensure_jars()}")


@broker.command("stop")
@one_line_errors
def broker_stop() -> None:
    """Stop the local broker cleanly."""
    from compose.local_broker import LocalBroker

    stopped = LocalBroker.from_settings(get_settings()).stop()
    click.echo("broker stopped" if stopped else "broker was not running")


@broker.command("status")
@one_line_errors
def broker_status() -> None:
    """Whether the local broker runs and answers; exit 0 only if it answers."""
    from compose.local_broker import LocalBroker

    st = LocalBroker.from_settings(get_settings()).status()
    state = "running" if st.running else "stopped"
    click.echo(
        f"broker {state} (pid {st.pid}) at {st.bootstrap}, answering: {'yes' if st.answering else 'no'}"
    )
    sys.exit(0 if st.answering else 3)


@cli.group()
def topics() -> None:
    """The topics declared in schemas/topics.py."""


@topics.command("create")
@one_line_errors
def topics_create() -> None:
    """Create missing topics; report (exit 1) existing ones whose settings differ."""
    from kafka_io.connection import quiet_client_logs
    from kafka_io.topic_admin import ensure_topics, raise_on_mismatch
    from schemas.topics import Topics

    settings = get_settings()
    with quiet_client_logs():
        reports = asyncio.run(ensure_topics(settings.kafka, Topics.from_settings(settings).all()))
    for report in reports:
        click.echo(report.line())
    raise_on_mismatch(reports)


@cli.command()
@click.option("-l", "--loglevel", default="info", show_default=True)
def worker(loglevel: str) -> None:
    """Run a Faust worker (same as `faust -A streams.app worker -l info`)."""
    from compose.processes import worker_command

    argv = worker_command(loglevel)
    os.execv(argv[0], argv)


@cli.command()
@click.option("--host", default=None, help="Default: FEYNMAN_API_HOST.")
@click.option("--port", type=int, default=None, help="Default: FEYNMAN_API_PORT (8000).")
@one_line_errors
def api(host: str | None, port: int | None) -> None:
    """Run the HTTP API under uvicorn."""
    import uvicorn

    from producers.app import create_app

    settings = get_settings()
    # The app checks where it listens (development only on loopback): it must see --host too.
    if host is not None:
        settings = settings.model_copy(update={"api_host": host})
    uvicorn.run(create_app(settings), host=settings.api_host, port=port or settings.api_port)


@cli.command()
@click.argument("source", type=click.File("rb"), default="-")
@one_line_errors
def publish(source: Any) -> None:
    """Publish JSON-lines envelopes from SOURCE (a file, or - for stdin).

    Each line is validated first; bad lines are reported with their numbers and
    not sent (exit 1), good lines are sent in order and acknowledged by Kafka.
    Missing "id" and "ts" are filled in.
    """
    from feynman.publish_lines import parse_lines
    from producers.publisher import Publisher
    from producers.publishing import publish_with_tasks

    good, bad = parse_lines(source)
    for problem in bad:
        click.echo(problem.line(), err=True)

    async def send(settings: Settings) -> None:
        publisher = Publisher(settings)
        await publisher.start()
        try:
            for envelope in good:
                done = await publish_with_tasks(publisher, envelope)
                where = f"{done.topic}[{done.partition}]@{done.offset}"
                tasks = f" tasks {','.join(done.task_ids)}" if done.task_ids else ""
                click.echo(f"{envelope.id} {envelope.type} -> {where}{tasks}")
        finally:
            await publisher.stop()

    if good:
        asyncio.run(send(get_settings()))
    click.echo(f"published {len(good)}, rejected {len(bad)}", err=True)
    sys.exit(1 if bad else 0)


cli.add_command(replay)


@cli.group()
def bench() -> None:
    """Benchmarks that print figures (not pass/fail tests)."""


@bench.command("chat")
@click.option(
    "--rates", default="25,50,100,200", show_default=True, help="Offered requests/s, comma-separated."
)
@click.option("--duration", default=10.0, show_default=True, help="Measured seconds per rate and system.")
@click.option("--warmup", default=2.0, show_default=True, help="Unmeasured seconds before each measurement.")
@one_line_errors
def bench_chat(rates: str, duration: float, warmup: float) -> None:
    """POST /chat p50/p99 and req/s: this API vs the same handler on BackgroundTasks."""
    from benchmarks.chat_latency import run, table

    offered = [float(r) for r in rates.split(",") if r.strip()]
    settings = get_settings()
    results = run(offered, duration, warmup, settings.kafka_bootstrap)
    click.echo(table(results))


@bench.command("runtime")
@click.option("--events", default=20_000, show_default=True, help="No-op events per run.")
@click.option("--repeats", default=3, show_default=True, help="No-op runs per path; medians reported.")
@click.option("--limits", default="1,4,16,64,256", show_default=True, help="In-flight limits to measure.")
@one_line_errors
def bench_runtime(events: int, repeats: int, limits: str) -> None:
    """No-op rate: the runtime vs raw aiokafka and a bare Faust agent; LLM-like rate as in-flight grows."""
    from benchmarks.runtime_bench import run

    limits_run = tuple(int(n) for n in limits.split(",") if n.strip())
    _bench_in_scratch_dir("runtime", run, events=events, repeats=repeats, limits=limits_run)


@bench.command("status")
@click.option("--tasks", default=10_000, show_default=True, help="No-op tasks per burst.")
@click.option("--repeats", default=2, show_default=True, help="Bursts; each on a fresh deployment.")
@one_line_errors
def bench_status(tasks: int, repeats: int) -> None:
    """How soon a completed status is readable on the API after a burst of no-op tasks."""
    from benchmarks.status_burst import run

    _bench_in_scratch_dir("status", run, tasks=tasks, repeats=repeats)


def _to_stderr(line: str) -> None:
    click.echo(line, err=True)


def _bench_in_scratch_dir(name: str, run: Callable[..., str], **options: Any) -> None:
    """Run a benchmark on the configured broker, in a throwaway directory; print its report."""
    import tempfile

    from compose.processes import free_port

    with tempfile.TemporaryDirectory(prefix=f"feynman-bench-{name}-") as data:
        report = run(get_settings().kafka_bootstrap, Path(data), free_port(), progress=_to_stderr, **options)
    click.echo(report)


@bench.command("compare")
@click.option("--quick", is_flag=True, help="Small sizes (minutes, not an hour).")
@click.option("--repeats", default=3, show_default=True, help="Runs of every workload; medians reported.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("docs/benchmarks.md"), show_default=True)
@click.option(
    "--workloads",
    default="noop,llm,crash,restart",
    show_default=True,
    help="Which workloads to run: (a)+(b) noop, (c) llm, (d) crash, (e) restart.",
)
@one_line_errors
def bench_compare(quick: bool, repeats: int, out: Path, workloads: str) -> None:
    """This pipeline vs BackgroundTasks, asyncio.Queue, Celery, RQ, raw aiokafka, Kafka's perf tools."""
    from benchmarks.compare.main import compare
    from benchmarks.compare.report import tables, write
    from benchmarks.compare.runner import ALL, Outcome
    from benchmarks.compare.sizes import FULL, QUICK

    chosen = tuple(w.strip() for w in workloads.split(",") if w.strip())
    if not chosen or set(chosen) - set(ALL):
        raise click.BadParameter(f"choose from {', '.join(ALL)}", param_hint="--workloads")
    command = "feynman bench compare" + (" --quick" if quick else "") + f" --repeats {repeats}"
    if set(chosen) != set(ALL):
        command += f" --workloads {','.join(chosen)}"

    def report(outcome: Outcome, done: int) -> None:
        # After every repeat, so that a run stopped early keeps its finished repeats.
        click.echo(f"written: {write(outcome, out, command, done, repeats)}", err=True)

    outcome = compare(
        QUICK if quick else FULL, repeats, get_settings().kafka_bootstrap, chosen, after_repeat=report
    )
    click.echo(tables(outcome))


@cli.command()
@click.option("--user", required=True, help="The learner's user id.")
@click.option("--topic", default=None, help="Only this topic (case-insensitive).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--out", type=click.File("w"), default="-", help="File to write (default: stdout).")
@one_line_errors
def export(user: str, topic: str | None, fmt: str, out: Any) -> None:
    """A learner's turns, analyses and memory, read from the topics, one flat row each."""
    from rich.progress import Progress

    from feynman.export import history, to_csv, to_jsonl

    async def collect() -> list[dict[str, Any]]:
        with Progress(console=None if out.name != "<stdout>" else _stderr_console()) as bar:
            task = bar.add_task("reading topics", total=None)
            return [
                row
                async for row in history(
                    get_settings(),
                    user,
                    topic,
                    lambda done, total: bar.update(task, completed=done, total=total),
                )
            ]

    rows = asyncio.run(collect())
    out.write(to_csv(rows) if fmt == "csv" else to_jsonl(rows))
    click.echo(f"{len(rows)} rows", err=True)


def _stderr_console() -> Any:
    """Progress goes to stderr when the rows go to stdout."""
    from rich.console import Console

    return Console(stderr=True)


@cli.group()
def schemas() -> None:
    """JSON Schema files of the event types."""


@schemas.command("export")
@click.option("--out", type=click.Path(path_type=Path), default=Path("docs/schemas"), show_default=True)
@click.option("--check", is_flag=True, help="Only report stale files (exit 1 if any).")
def schemas_export(out: Path, check: bool) -> None:
    """Write one JSON Schema per event type and version."""
    from feynman.schema_export import export, stale

    if check:
        problems = stale(out)
        for name in problems:
            click.echo(f"stale: {out / name}", err=True)
        sys.exit(1 if problems else 0)
    for path in export(out):
        click.echo(str(path))


def main() -> None:
    cli(prog_name="feynman")


if __name__ == "__main__":
    main()
