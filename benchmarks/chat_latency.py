"""POST /chat latency: this API (durable publish to Kafka) vs the old design (BackgroundTasks).

Both servers run the same handler — the local tutor, the short-term memory, the
same request and response models — and differ only in what happens to the
turn's background work: the old design runs it in-process after the response
(FastAPI ``BackgroundTasks``), this pipeline publishes it to Kafka and answers
once Kafka acknowledged it. Each runs under uvicorn in its own process; the
load is open-loop at fixed offered rates, alternating systems at each rate so
both see the same machine noise, and latency counts from each request's
scheduled start (no coordinated omission).

    feynman bench chat --rates 25,50,100,200 --duration 10
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import httpx
from fastapi import BackgroundTasks, FastAPI

from compose.processes import child_env, free_port
from domain.transcript import record_turn
from domain.tutor import Turn, remember, warm_up
from domain.tutor import ask as tutor_ask
from foundation.settings import Settings
from producers.api_models import ChatRequest, ChatResponse, MemoryItem
from schemas.envelope import new_event_id, rfc3339
from schemas.tasks import task_id

EXPLANATION = (
    "Photosynthesis is kind of how plants eat. The chlorophyll in the leaves takes sunlight and somehow "
    "turns water and carbon dioxide into glucose, and oxygen comes out as a by-product."
)


def baseline_app() -> FastAPI:
    """The old design: same handler, background work in-process after the reply."""
    warm_up()
    app = FastAPI()
    transcripts: dict[str, Any] = {}

    def record(session_id: str, event_id: str, topic: str, text: str, questions: list[str]) -> None:
        at = rfc3339(datetime.now(UTC))
        transcripts[session_id] = record_turn(
            transcripts.get(session_id),
            event_id=event_id,
            at=at,
            topic=topic,
            user_input=text,
            questions=questions,
        )

    @app.post("/chat", response_model=ChatResponse)
    async def chat(body: ChatRequest, background: BackgroundTasks) -> ChatResponse:
        memory = [
            Turn(role="user", content=m) if isinstance(m, str) else Turn(m.role, m.content)
            for m in body.short_term_memory
        ]
        reply = tutor_ask(body.topic, body.user_input, memory)
        event_id = new_event_id()
        background.add_task(record, body.session_id, event_id, body.topic, body.user_input, reply.questions)
        kept = remember(memory, body.user_input, reply.questions, keep_turns=10)
        tid = task_id("transcript", event_id)
        return ChatResponse(
            questions=reply.questions,
            session_id=body.session_id,
            short_term_memory=[MemoryItem(role=t.role, content=t.content) for t in kept],
            background_task_id=tid,
            task_ids=[tid],
            event_id=event_id,
            language=reply.language,
            question_source="local",
        )

    return app


def serve(kind: str, port: int) -> None:
    """Entry of a server subprocess."""
    import uvicorn

    from producers.app import create_app

    app = baseline_app() if kind == "baseline" else create_app(Settings())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@dataclass
class Result:
    system: str
    rate: float
    sent: int
    ok: int
    errors: int
    achieved_rps: float
    p50_ms: float
    p99_ms: float


@contextlib.contextmanager
def _server(kind: str, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", f"from benchmarks.chat_latency import serve; serve({kind!r}, {port})"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.post(f"{url}/chat", json=_body(0), timeout=2).status_code == 200:
                    break
            if proc.poll() is not None:
                raise RuntimeError(f"{kind} server exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(15)


def _body(n: int) -> dict[str, Any]:
    return {"topic": "photosynthesis", "session_id": f"bench-{n % 200}", "user_input": EXPLANATION}


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _load(url: str, system: str, rate: float, duration_s: float, warmup_s: float) -> Result:
    """Open-loop load: request i is due at start + i/rate, whatever earlier ones do."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        start = time.perf_counter() + 0.1
        total = int(rate * (warmup_s + duration_s))

        async def one(i: int) -> None:
            nonlocal errors
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                r = await client.post("/chat", json=_body(i))
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            if due - start < warmup_s:
                return
            if ok:
                latencies.append((time.perf_counter() - due) * 1000)
            else:
                errors += 1

        await asyncio.gather(*(one(i) for i in range(total)))
        elapsed = time.perf_counter() - start - warmup_s
    measured = len(latencies) + errors
    return Result(
        system,
        rate,
        measured,
        len(latencies),
        errors,
        len(latencies) / max(elapsed, 1e-9),
        _percentile(latencies, 0.5),
        _percentile(latencies, 0.99),
    )


def run(rates: list[float], duration_s: float, warmup_s: float, bootstrap: str | None) -> list[Result]:
    """Both systems at every rate, alternating; a local broker is started if none is given."""
    from compose.local_broker import LocalBroker, broker_answers
    from kafka_io.topic_admin import ensure_topics
    from schemas.topics import Topics

    broker = None
    data = Path(tempfile.mkdtemp(prefix="feynman-bench-"))
    if bootstrap is None or not broker_answers(bootstrap):
        broker = LocalBroker(free_port(), free_port(), data / "kafka", Settings().cache_dir)
        broker.start(timeout=120)
        bootstrap = broker.bootstrap
    name = f"bench{uuid.uuid4().hex[:8]}"
    settings = Settings(kafka_bootstrap=bootstrap, topic_prefix=name, app_id=name, data_dir=data)
    asyncio.run(ensure_topics(settings.kafka, Topics.from_settings(settings).all()))
    env = child_env(settings)
    results = []
    try:
        with (
            _server("baseline", env) as baseline,
            _server("pipeline", env) as pipeline,
            click.progressbar(length=2 * len(rates), label="POST /chat load", file=sys.stderr) as bar,
        ):
            for rate in rates:
                for system, url in (("BackgroundTasks (old)", baseline), ("Kafka pipeline", pipeline)):
                    results.append(asyncio.run(_load(url, system, rate, duration_s, warmup_s)))
                    bar.update(1)
    finally:
        if broker is not None:
            broker.stop()
    return results


def table(results: list[Result]) -> str:
    lines = [
        "| offered req/s | system | achieved req/s | p50 ms | p99 ms | errors | p99 vs old |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    old = {r.rate: r for r in results if r.system.startswith("BackgroundTasks")}
    for r in results:
        ratio = r.p99_ms / old[r.rate].p99_ms if r.rate in old and old[r.rate].p99_ms else float("nan")
        figures = f"{r.achieved_rps:.1f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors}"
        lines.append(f"| {r.rate:.0f} | {r.system} | {figures} | {ratio:.2f}x |")
    return "\n".join(lines)
