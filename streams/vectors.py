"""The ``vectors`` task type: explanations and session summaries in a per-worker vector index.

A chain: it runs on ``analysis.completed`` (a turn's explanation) and
``memory.consolidated`` (a session's summary), both keyed by learner, so all of
one learner's vectors are written by the worker that owns the learner's
partition, and ``GET /learners/{id}/similar/`` is forwarded there (routed by the
``learner_memory`` table, co-partitioned with those topics). The index is a
SQLite file in the worker's data dir: a cache derived from the two topics. Ids
are stable (turn event id; learner, session and topic), so a re-run upserts.
After a partition moves to another worker, that worker's index lacks the
learner's older vectors until the topics are replayed (docs/task-types.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import faust
from faust.web import Request, Response, View

from domain.embedding import HashingEmbedder
from domain.progress import topic_key
from domain.vector_index import SqliteVectorIndex
from schemas.envelope import Envelope, ordering_key
from schemas.events import AnalysisCompleted, MemoryConsolidated
from streams.batching import Batcher
from streams.runtime import Runtime
from streams.tasks import Priority, TaskContext, TaskType, misrouted

Item = tuple[str, str, dict[str, Any]]  # id, text, metadata
PREVIEW_CHARS = 500


async def handle_vectors(
    envelope: Envelope[Any], context: TaskContext, *, submit: Callable[[Item], Awaitable[None]]
) -> str | None:
    """Store an explanation or a session summary; completes only once ``submit`` has stored it."""
    data = envelope.data
    learner = ordering_key(envelope)
    if isinstance(data, AnalysisCompleted):
        item_id, text, kind = f"turn/{data.turn_event_id}", data.explanation, "explanation"
    elif isinstance(data, MemoryConsolidated):
        text = " ".join(data.digest.get("summary", []))
        item_id, kind = f"summary/{learner}/{data.session_id}/{topic_key(data.topic)}", "summary"
    else:
        raise misrouted("vectors", envelope)
    if not text.strip():
        return None
    meta: dict[str, Any] = {"user_id": learner, "session_id": data.session_id, "topic": data.topic}
    await submit((item_id, text, {**meta, "kind": kind, "text": text[:PREVIEW_CHARS]}))
    return f"vectors/{item_id}"


def install(rt: Runtime, *, route_by: faust.Table) -> SqliteVectorIndex:
    settings = rt.settings
    embedder = HashingEmbedder(settings.vector_dim)
    directory = settings.data_dir / f"vectors-{settings.app_id}-{settings.worker_web_port}"
    index = SqliteVectorIndex(directory, settings.vector_dim)

    def write(items: Sequence[Item]) -> None:
        index.add(
            [i for i, _, _ in items], embedder.embed([t for _, t, _ in items]), [m for _, _, m in items]
        )

    batcher: Batcher[Item] = Batcher(
        write, max_items=settings.vector_batch_size, max_delay_s=settings.vector_batch_ms / 1000
    )

    # Many in flight so the batcher has something to batch; upserts by id need no order.
    rt.add_task_types(
        [
            TaskType(
                "vectors",
                partial(handle_vectors, submit=batcher.submit),
                priority=Priority.MEDIUM,
                concurrency=max(1, settings.vector_batch_size),
                ordered=False,
                timeout_s=30.0,
            )
        ]
    )

    @rt.page("/learners/{learner_id}/similar/", table=route_by, match_info="learner_id")
    async def similar(web: View, request: Request, learner_id: str) -> Response:
        query = request.query.get("q", "")
        try:
            k = int(request.query.get("k", "5"))
        except ValueError:
            return web.json({"detail": "k must be an integer", "reason": "bad_k"}, status=400)
        if not query.strip() or not 1 <= k <= 50:
            return web.json({"detail": "need q and 1 <= k <= 50", "reason": "bad_query"}, status=400)
        if not await asyncio.to_thread(index.count, user_id=learner_id):
            return web.json({"detail": f"nothing stored for learner {learner_id}"}, status=404)
        vector = embedder.embed([query])[0]
        matches = await asyncio.to_thread(index.search, vector, k, user_id=learner_id)
        return web.json(
            {
                "learner_id": learner_id,
                "query": query,
                "matches": [{"id": m.id, "score": round(m.score, 4), **m.metadata} for m in matches],
            }
        )

    return index
