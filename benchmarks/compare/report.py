"""docs/benchmarks.md and its plots from the run's figures: medians over repeats, ratios to this pipeline."""

from __future__ import annotations

import math
import platform
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.compare.measurements import medians, spreads
from benchmarks.compare.runner import Outcome

PIPELINE = "this pipeline"
# The row every other row of a workload is divided by.
BASE = {"restart": "this pipeline, rocksdb://"}
# Metrics where more is better; every other metric is better when lower.
HIGHER_IS_BETTER = frozenset({"tasks/s", "submit/s", "entries kept %"})
# Per workload: the metrics shown, in order.
TABLES = {
    "throughput": ("tasks/s", "submit/s", "not completed"),
    "latency": ("p50 ms", "p99 ms", "missing"),
    "llm": ("completion s", "order violations", "not completed"),
    "crash": ("lost", "duplicated", "recovery s"),
    "restart": ("ready s", "first event s", "entries kept %"),
}
TITLES = {
    "throughput": "(a) Throughput: no-op jobs submitted at once",
    "latency": "(b) End-to-end latency (submit → completion recorded) at fixed offered rates",
    "llm": "(c) LLM-like jobs (sleep): completion time as concurrency grows, per-session order",
    "crash": "(d) Worker killed with SIGKILL halfway, then restarted",
    "restart": "(e) Worker restart with many status entries",
}


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.2f}"


def tables(outcome: Outcome) -> str:
    med, spread = medians(outcome.figures), spreads(outcome.figures)
    out: list[str] = []
    for workload, metrics in TABLES.items():
        rows = sorted({(p, s) for (w, p, _, s) in med if w == workload}, key=lambda r: (_order(r[0]), r[1]))
        if not rows:
            continue
        shown = [m for m in metrics if any((workload, p, m, s) in med for p, s in rows)]
        base_row = BASE.get(workload, PIPELINE)
        out.append(f"### {TITLES[workload]}\n")
        out.append(f"Ratios: each system / {base_row}.\n")
        out.append("| param | system | " + " | ".join(f"{_head(m)} | vs pipeline" for m in shown) + " |")
        out.append("|---|---|" + "---:|---:|" * len(shown))
        for param, system in rows:
            cells = []
            for m in shown:
                value = med.get((workload, param, m, system), float("nan"))
                base = med.get((workload, param, m, base_row), float("nan"))
                ratio = (
                    value / base if base and not math.isnan(base) and not math.isnan(value) else float("nan")
                )
                low, high = spread.get((workload, param, m, system), (value, value))
                shown_value = _fmt(value) if low == high else f"{_fmt(value)} ({_fmt(low)} to {_fmt(high)})"
                cells.append(f"{shown_value} | {'n/a' if math.isnan(ratio) else f'{ratio:.2f}x'}")
            out.append(f"| {param or '-'} | {system} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def _head(metric: str) -> str:
    return f"{metric} {'↑' if metric in HIGHER_IS_BETTER else '↓'}"


READING = (
    "Each table gives the median of a figure over the repeats, with the lowest and highest run in "
    "brackets when they differ, and, beside it, that median divided "
    "by this pipeline's in the same row group (`vs pipeline`). ↑ marks a figure where more is "
    "better (tasks/s, submit/s, entries kept %): there a ratio above 1x means the other system did "
    "better than the pipeline. ↓ marks a figure where less is better (latencies, completion, "
    "ready and recovery times, lost, duplicated, order violations, missing, not completed): there "
    "a ratio above 1x means the other system did worse. A ratio against a pipeline figure of 0 "
    "is shown as n/a."
)


def _order(param: str) -> float:
    digits = "".join(ch for ch in param if ch.isdigit() or ch == ".")
    return float(digits) if digits else 0.0


def plots(outcome: Outcome, out_dir: Path) -> list[Path]:
    """Bar chart of throughput, p99 per rate, LLM completion per concurrency (matplotlib, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    med = medians(outcome.figures)
    written = []
    thr = {s: v for (w, _, m, s), v in med.items() if w == "throughput" and m == "tasks/s"}
    if thr:
        fig, ax = plt.subplots(figsize=(8, 4))
        names = sorted(thr, key=thr.__getitem__)
        ax.barh(names, [thr[n] for n in names])
        ax.set_xscale("log")
        ax.set_xlabel("no-op jobs/s (log scale, median)")
        fig.tight_layout()
        written.append(_save(fig, out_dir / "benchmarks-throughput.png"))
        plt.close(fig)
    for workload, metric, label, name in (
        ("latency", "p99 ms", "offered jobs/s", "benchmarks-latency.png"),
        ("llm", "completion s", "concurrency", "benchmarks-llm.png"),
    ):
        series: dict[str, list[tuple[float, float]]] = {}
        for (w, p, m, s), v in med.items():
            if w == workload and m == metric:
                series.setdefault(s, []).append((_order(p), v))
        if not series:
            continue
        fig, ax = plt.subplots(figsize=(8, 4))
        for system, points in sorted(series.items()):
            xs, ys = zip(*sorted(points), strict=True)
            ax.plot(xs, ys, marker="o", label=system)
        ax.set_xlabel(label)
        ax.set_ylabel(f"{metric} (median)")
        if workload == "latency":
            ax.set_yscale("log")
        ax.legend(fontsize=8)
        fig.tight_layout()
        written.append(_save(fig, out_dir / name))
        plt.close(fig)
    return written


def _save(fig: object, path: Path) -> Path:
    fig.savefig(path, dpi=100)  # type: ignore[attr-defined]
    return path


def markdown(outcome: Outcome, command: str, repeats: int, images: list[Path], requested: int) -> str:
    partial = (
        f" (so far: {requested} were asked for, and this page is rewritten after each one)"
        if repeats < requested
        else ""
    )
    lines = [
        "# Benchmarks: this pipeline against other ways to run background work",
        "",
        "```bash",
        command,
        "```",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()} "
        f"({platform.system()}), Python {platform.python_version()}; "
        f"medians over {repeats} repeat(s){partial}, "
        "systems in a rotated order each repeat; warm-up jobs run before each system's measurements "
        "and are not counted (see Notes for how many). A single-node Kafka broker and a Redis server "
        "(append-only file, fsync every second) run on the same machine as the workers and the load.",
        "",
        "## Versions",
        "",
        *[f"- {system}: {v}" for system, v in outcome.versions.items()],
        "",
        "## Concurrency of each system",
        "",
        *[f"- {k}: {v}" for k, v in sorted(outcome.concurrency.items())],
        "",
        "## How to read the tables",
        "",
        READING,
        "",
        "## Results",
        "",
        tables(outcome),
        *[f"![{p.stem}]({p.name})\n" for p in images],
    ]
    if outcome.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in dict.fromkeys(outcome.notes)], ""]
    return "\n".join(lines)


def write(outcome: Outcome, out: Path, command: str, repeats: int, requested: int | None = None) -> Path:
    """The page and its plots for ``repeats`` finished repeats (of ``requested``, if the run goes on)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    images = plots(outcome, out.parent)
    out.write_text(markdown(outcome, command, repeats, images, requested or repeats))
    return out
