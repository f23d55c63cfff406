"""The ``analysis`` and ``progress`` task types, their tables and their worker routes.

``analysis`` runs per chat turn on the conversations topic (keyed by session):
it analyses the turn against the session's previous turn, keeps the session's
recent reports in ``session_analysis`` (keyed by session, so co-partitioned), and
publishes ``analysis.completed`` keyed by *learner*. A learner's sessions live
on different partitions, so their progress cannot be folded where the turns are
processed without two workers writing one row; ``progress`` folds it from the
analysis topic instead, where every event of a learner is in one partition.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from functools import partial
from typing import Any

import faust
from faust.web import Request, Response, View

from domain.analysis import analyse
from domain.progress import fold_clarity
from domain.session_analysis import find_report, record_report, turn_context
from schemas.envelope import Envelope, ordering_key, rfc3339
from schemas.events import AnalysisCompleted, ChatTurn
from streams.results import PublishResult, publish_result, result_event_id
from streams.runtime import Runtime
from streams.tasks import Priority, TaskContext, TaskType, misrouted


def learner_of(user_id: str | None, session_id: str) -> str:
    """Whose progress and memory a session feeds: the user, else the (anonymous) session."""
    return user_id or session_id


async def handle_analysis(
    envelope: Envelope[Any],
    context: TaskContext,
    *,
    reports: MutableMapping[str, Any],
    keep: int,
    publish: PublishResult,
) -> str:
    """Analyse a turn once; a re-run republishes the stored report, so downstream sees one result."""
    turn = envelope.data
    if not isinstance(turn, ChatTurn):
        raise misrouted("analysis", envelope)
    key = ordering_key(envelope)
    state = reports.get(key)
    entry = find_report(state, envelope.id)
    if entry is None:
        previous, earlier = turn_context(state)
        report = analyse(
            turn.user_input, topic=turn.topic, previous_questions=previous, earlier_explanations=earlier
        ).to_dict()
        reports[key] = record_report(
            state,
            event_id=envelope.id,
            at=rfc3339(envelope.ts),
            topic=turn.topic,
            explanation=turn.user_input,
            questions=list(turn.questions),
            report=report,
            keep=keep,
        )
    else:
        report = entry["report"]  # a re-run publishes the same result again
    result = AnalysisCompleted(
        learner_id=learner_of(turn.user_id, turn.session_id),
        user_id=turn.user_id,
        session_id=turn.session_id,
        topic=turn.topic,
        turn_event_id=envelope.id,
        explanation=turn.user_input,
        report=report,
    )
    return await publish(result, event_id=result_event_id(context))


async def handle_progress(
    envelope: Envelope[Any], context: TaskContext, *, progress: MutableMapping[str, Any]
) -> str:
    """Fold a learner's analysed turn into their progress (a redelivered turn is recognised by id)."""
    done = envelope.data
    if not isinstance(done, AnalysisCompleted):
        raise misrouted("progress", envelope)
    key = ordering_key(envelope)
    clarity = float(done.report["clarity"])
    state = fold_clarity(progress.get(key), clarity, topic=done.topic, event_id=done.turn_event_id)
    progress[key] = state.to_dict()
    return f"learner_progress/{key}#{state.count}"


def install(rt: Runtime) -> tuple[faust.Table, faust.Table]:
    reports = rt.table(
        "session_analysis",
        rt.topics.session_analysis_changelog,
        help="Per session: recent quality reports and the context the next turn is judged against.",
    )
    progress = rt.table(
        "learner_progress",
        rt.topics.learner_progress_changelog,
        help="Per learner: clarity progress folded from analysis.completed.",
    )
    rt.expiry.register_session_table(reports)
    analysis = partial(
        handle_analysis,
        reports=reports,
        keep=rt.settings.analysis_keep_reports,
        publish=partial(publish_result, rt, rt.topics.analysis_results),
    )
    rt.add_task_types(
        [
            # Pure computation: a retry can only help against a timeout on a busy worker.
            TaskType("analysis", analysis, priority=Priority.HIGH, max_attempts=2, timeout_s=30.0),
            TaskType(
                "progress",
                partial(handle_progress, progress=progress),
                priority=Priority.MEDIUM,
                timeout_s=10.0,
            ),
        ]
    )

    @rt.page("/sessions/{session_id}/analysis/", table=reports, match_info="session_id")
    async def session_analysis(web: View, request: Request, session_id: str) -> Response:
        state = reports.get(session_id)
        if state is None:
            return web.json({"detail": f"no analysis for session {session_id}"}, status=404)
        return web.json({"session_id": session_id, "turns": state["turns"], "reports": state["reports"]})

    @rt.page("/learners/{learner_id}/progress/", table=progress, match_info="learner_id")
    async def learner_progress(web: View, request: Request, learner_id: str) -> Response:
        state = progress.get(learner_id)
        if state is None:
            return web.json({"detail": f"no progress for learner {learner_id}"}, status=404)
        body = {k: v for k, v in state.items() if k != "seen_events"}
        return web.json({"learner_id": learner_id, **body})

    return reports, progress
