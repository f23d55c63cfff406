"""``feynman replay``: the command line around :mod:`producers.replay`.

Only parsing, the progress bar and the summary live here; selecting, sending
and checkpointing are the replay package's. Exit codes are part of the
interface (docs/replay.md): 0 done, 1 error, 2 usage, 3 nothing selected.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from foundation.errors import FeynmanError, NothingSelectedError, ReplayError, ReplayUsageError
from foundation.settings import Settings, get_settings

LANES = ("replay", "live")


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    """Repeated options and comma lists alike: ``--type a --type b,c``."""
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


@click.command()
@click.argument("topic", required=False)
@click.option("--from", "from_", metavar="TIME", help="Start: RFC 3339, or relative like -2h, -30m, -7d.")
@click.option("--to", metavar="TIME", help="End (exclusive); default: now.")
@click.option("--offsets", metavar="P:FIRST-LAST,...", help="Explicit inclusive ranges, e.g. 0:10-20,1:5-")
@click.option("--type", "types", multiple=True, help="Only these event types (repeat or comma-separate).")
@click.option("--session", help="Only events of this session.")
@click.option("--user", help="Only events of this user.")
@click.option("--task-type", "task_types", multiple=True, help="Dead letters of these task types only.")
@click.option("--reason", "reasons", multiple=True, help="Dead letters with these reasons only.")
@click.option("--lane", type=click.Choice(LANES), default="replay", show_default=True)
@click.option("--tasks", help="Rerun only these task types (comma-separated); default: all.")
@click.option("--dry-run", is_flag=True, help="Count per type and partition and show a sample; send nothing.")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), help="At most N events per second.")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after N events (resume later).")
@click.option("--resume", metavar="FILE|ID", help="Continue a replay from its checkpoint.")
@click.option("--no-progress", is_flag=True, help="No progress bar (it goes to stderr).")
def replay(
    topic: str | None,
    from_: str | None,
    to: str | None,
    offsets: str | None,
    types: tuple[str, ...],
    session: str | None,
    user: str | None,
    task_types: tuple[str, ...],
    reasons: tuple[str, ...],
    lane: str,
    tasks: str | None,
    dry_run: bool,
    rate: float | None,
    limit: int | None,
    resume: str | None,
    no_progress: bool,
) -> None:
    """Send events of TOPIC again, into the low-priority replay lane by default.

    TOPIC is a logical name: conversations, llm_usage, task_status or
    dead_letter. Replayed events keep their ids and keys and carry a replay
    id: the worker reruns their tasks once more as a new generation.
    """
    try:
        settings = get_settings()
        if resume is not None:
            given = [topic, from_, to, offsets, session, user, tasks, *types, *task_types, *reasons]
            if any(given) or lane != "replay":
                raise ReplayUsageError("--resume takes topic, range, filters and target from its checkpoint")
            from producers.replay.checkpoint import load

            checkpoint = load(resume, settings.replay_checkpoint_dir)
        else:
            if topic is None:
                raise ReplayUsageError("name a TOPIC (conversations, llm_usage, task_status, dead_letter)")
            selection = _selection(topic, from_, to, offsets, types, session, user, task_types, reasons)
            selection = _with_target(selection, lane, tasks)
            checkpoint = _plan(settings, selection)
        _run(settings, checkpoint, dry_run=dry_run, rate=rate, limit=limit, progress=not no_progress)
    except ReplayError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except FeynmanError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def _selection(
    topic: str,
    from_: str | None,
    to: str | None,
    offsets: str | None,
    types: tuple[str, ...],
    session: str | None,
    user: str | None,
    task_types: tuple[str, ...],
    reasons: tuple[str, ...],
) -> Any:
    from producers.replay.selection import Filters, Selection, parse_offsets, parse_time

    now = datetime.now(UTC)
    selection = Selection(
        source=topic,
        start=parse_time(from_, now, option="--from") if from_ else None,
        end=parse_time(to, now, option="--to") if to else None,
        offsets=parse_offsets(offsets) if offsets else None,
        filters=Filters(_split(types), session, user, _split(task_types), _split(reasons)),
    )
    selection.check_not_future(now)
    if (task_types or reasons) and not selection.dead_letters:
        raise ReplayUsageError("--task-type and --reason select dead letters: use them with dead_letter")
    return selection


def _with_target(selection: Any, lane: str, tasks: str | None) -> Any:
    from dataclasses import replace

    rerun = _split((tasks,)) if tasks else None
    if tasks is not None and not rerun:
        raise ReplayUsageError("--tasks names no task type")
    return replace(selection, lane=lane, tasks=rerun)


def _plan(settings: Settings, selection: Any) -> Any:
    from producers.replay.replayer import plan

    checkpoint = asyncio.run(plan(settings, selection, settings.replay_checkpoint_dir))
    if checkpoint.total() == 0:
        raise NothingSelectedError(f"nothing selected: {selection.source} has no records in that range")
    return checkpoint


def _run(
    settings: Settings,
    checkpoint: Any,
    *,
    dry_run: bool,
    rate: float | None,
    limit: int | None,
    progress: bool,
) -> None:
    from producers.replay.replayer import run

    with _progress_bar(checkpoint, enabled=progress) as advance:
        summary = asyncio.run(
            run(settings, checkpoint, dry_run=dry_run, rate=rate, limit=limit, progress=advance)
        )
    _print_summary(checkpoint, summary, dry_run=dry_run)
    if checkpoint.sent == 0 and summary.selected_total == 0:
        raise NothingSelectedError("nothing selected: no record in the range matches the filters")


class _RateColumn(ProgressColumn):
    """Records per second, as the bar's own speed estimate has it."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:,.0f} rec/s", style="progress.data.speed")


@contextmanager
def _progress_bar(checkpoint: Any, *, enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    bar = Progress(
        TextColumn("replay {task.fields[sent]:,} sent"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    task = bar.add_task("replay", total=checkpoint.total(), completed=checkpoint.done(), sent=checkpoint.sent)
    base = checkpoint.sent

    def advance(done: int, sent: int) -> None:
        bar.update(task, advance=done, sent=base + sent)

    with bar:
        yield advance


def _print_summary(checkpoint: Any, summary: Any, *, dry_run: bool) -> None:
    verb = "would send" if dry_run else "sent"
    click.echo(
        f"replay {summary.replay_id}: {verb} {summary.selected_total} of {summary.scanned} records scanned"
        + ("" if dry_run else f" ({checkpoint.sent} in all runs)")
    )
    by_type: dict[str, dict[int, int]] = {}
    for (kind, partition), count in sorted(summary.selected.items()):
        by_type.setdefault(kind, {})[partition] = count
    for kind, parts in by_type.items():
        cells = "  ".join(f"p{p}:{n}" for p, n in parts.items())
        click.echo(f"  {kind:<20} {sum(parts.values()):>8}   {cells}")
    for topic, count in sorted(summary.targets.items()):
        click.echo(f"  -> {topic}: {count}")
    for reason, count in sorted(summary.skipped.items()):
        click.echo(f"  not sent ({reason}): {count}")
    if dry_run:
        for item in summary.samples:
            click.echo(f"  sample {item.kind} key={item.key} from p{item.partition}@{item.offset}")
        return
    if summary.stopped_at_limit:
        click.echo(f"stopped at --limit; continue with: feynman replay --resume {summary.replay_id}")
    elif summary.finished:
        click.echo(f"finished; checkpoint {checkpoint.path}")
