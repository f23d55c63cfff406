"""Read routes over the task types' results: analysis, progress, memory, similar texts, costs.

Thin: each validates its parameters and asks a worker route (``StatusClient.lookup``),
which forwards keyed lookups to the worker owning the key. Nothing stored is a 404
with ``{detail, reason}``; no worker answering is the app's 503 with Retry-After.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from producers.api_models import Problem
from producers.dependencies import StatusClientDep
from producers.status_client import StatusClient
from schemas.events import SessionId, UserId

router = APIRouter(tags=["learning"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "Nothing stored for this key yet"},
    503: {"model": Problem, "description": "No worker answered; retry later"},
}


def _missing(detail: str, reason: str) -> JSONResponse:
    return JSONResponse({"detail": detail, "reason": reason}, status_code=404)


async def _lookup(
    status: StatusClient, path: str, params: dict[str, str] | None = None
) -> dict[str, Any] | None:
    return await status.lookup(path, params)


@router.get("/sessions/{session_id}/analysis", responses=NOT_FOUND)
async def session_analysis(status: StatusClientDep, session_id: Annotated[SessionId, Path()]) -> Any:
    """The session's recent quality reports (oldest first), one per analysed chat turn."""
    body = await _lookup(status, f"/sessions/{quote(session_id, safe='')}/analysis/")
    return body if body is not None else _missing(f"no analysis for session {session_id}", "unknown_session")


@router.get("/learners/{user_id}/progress", responses=NOT_FOUND)
async def learner_progress(status: StatusClientDep, user_id: Annotated[UserId, Path()]) -> Any:
    """The learner's clarity progress over every analysed turn."""
    body = await _lookup(status, f"/learners/{quote(user_id, safe='')}/progress/")
    return body if body is not None else _missing(f"no progress for learner {user_id}", "unknown_learner")


@router.get("/learners/{user_id}/memory", responses=NOT_FOUND)
async def learner_memory(
    status: StatusClientDep,
    user_id: Annotated[UserId, Path()],
    topic: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    """The learner's long-term memory: of one topic with ``topic``, else of every topic."""
    params = {"topic": topic} if topic else None
    body = await _lookup(status, f"/learners/{quote(user_id, safe='')}/memory/", params)
    if body is None:
        what = f" of topic {topic!r}" if topic else ""
        return _missing(f"no memory{what} for learner {user_id}", "unknown_memory")
    return body


@router.get("/learners/{user_id}/similar", responses=NOT_FOUND)
async def learner_similar(
    status: StatusClientDep,
    user_id: Annotated[UserId, Path()],
    q: Annotated[str, Query(min_length=1, max_length=2000)],
    k: Annotated[int, Query(ge=1, le=50)] = 5,
) -> Any:
    """The learner's stored explanations and session summaries most similar to ``q``."""
    body = await _lookup(status, f"/learners/{quote(user_id, safe='')}/similar/", {"q": q, "k": str(k)})
    return body if body is not None else _missing(f"nothing stored for learner {user_id}", "unknown_learner")


@router.get("/costs", responses=NOT_FOUND)
async def costs(
    status: StatusClientDep,
    user: Annotated[UserId | None, Query()] = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
) -> Any:
    """LLM spend from day ``from`` to day ``to`` (inclusive, the learners' calendar; default today)."""
    if from_ and to and to < from_:
        return JSONResponse({"detail": "'to' is before 'from'", "reason": "bad_range"}, status_code=422)
    params = {"user": user, "from": from_ and from_.isoformat(), "to": to and to.isoformat()}
    body = await _lookup(status, "/costs/", {k: v for k, v in params.items() if v})
    return body if body is not None else _missing("no cost data", "unknown_costs")
