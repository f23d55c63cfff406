"""Sending dead letters back for another try: the one place that republishes them.

A dead letter keeps its record's exact bytes and key and the topic it first
entered, so a requeue is that record published again: same key (same
partition, same per-session order), same event id (so the same task ids; work
already completed is skipped by the worker). Used by the web view's action
(live lane, bytes as they were) and by ``feynman replay`` (either lane, the
event marked with the replay's id and the one task type that died, so the
worker reruns exactly that task as a new generation).

Only the pipeline's input topics are accepted as live destinations: a dead
letter is data anyone could have written, and it must not be able to steer a
republish into a changelog or back into the dead-letter topic.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from foundation.errors import DecodeError, PublishError
from producers.publisher import Publisher
from schemas.envelope import Replay, decode, encode, replayed
from schemas.events import DeadLetter
from schemas.tasks import INTAKE_TASK
from schemas.topics import Topics

# Where a republished record goes: the topic it came from, or the low-priority lane.
Lane = Literal["live", "replay"]


@dataclass
class RequeueResult:
    requeued: int = 0
    # Dead letters not sent, with why: (label, reason).
    refused: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Resend:
    """One record to publish: where, under which key, which bytes."""

    topic: str
    key: str | None
    value: bytes


class Refused(ValueError):
    """A dead letter that cannot be sent back; the message says why."""


def requeue_targets(topics: Topics) -> frozenset[str]:
    """Topics a dead letter may be sent back to: those the worker reads events from."""
    return frozenset({topics.conversations.name, topics.llm_usage.name})


def resend_of(
    letter: DeadLetter,
    topics: Topics,
    *,
    lane: Lane = "live",
    replay_id: str | None = None,
    tasks: Iterable[str] | None = None,
) -> Resend:
    """The record that sends ``letter`` back; raises :class:`Refused`.

    Without ``replay_id`` the original bytes go back unchanged. With it, the
    event is marked as that replay's copy, limited to the task type that died
    (every task type for a record that never got past intake), narrowed further
    to ``tasks`` if given. A record that still cannot be decoded goes as it
    was: whatever made it poison may have been fixed by a new worker version.
    """
    try:
        raw = base64.b64decode(letter.original_b64, validate=True)
    except (binascii.Error, ValueError):
        raise Refused("original_b64 is not valid base64") from None
    if letter.original_bytes is not None and len(raw) < letter.original_bytes:
        raise Refused(
            f"only a preview of the original record was kept ({len(raw)} of {letter.original_bytes} bytes)"
        )
    allowed = requeue_targets(topics)
    origin = letter.origin_topic
    if lane == "replay":
        topic = topics.replay.name
    elif origin in allowed:
        topic = origin
    elif origin == topics.replay.name and letter.event_type:
        # It died on the replay lane; live, it belongs where its type is published.
        topic = topics.for_event_type(letter.event_type).name
    else:
        raise Refused(f"origin topic {origin!r} is not an input topic")
    if replay_id is None:
        return Resend(topic, letter.original_key, raw)
    try:
        envelope = decode(raw)
    except DecodeError:
        return Resend(topic, letter.original_key, raw)
    rerun = None if letter.task_type in (None, INTAKE_TASK) else {letter.task_type}
    if tasks is not None:
        rerun = set(tasks) if rerun is None else rerun & set(tasks)
        if not rerun:
            raise Refused(f"its task type {letter.task_type!r} is not among the tasks to rerun")
    mark = Replay(replay_id, tuple(sorted(rerun)) if rerun is not None else None)
    return Resend(topic, letter.original_key, encode(replayed(envelope, mark)))


async def requeue_dead_letters(
    publisher: Publisher,
    letters: Iterable[tuple[str, DeadLetter]],
    *,
    lane: Lane = "live",
    replay_id: str | None = None,
) -> RequeueResult:
    """Republish each ``(label, letter)`` (see :func:`resend_of`) and count the outcomes.

    ``label`` names the letter in the result (the view uses the dead-letter
    envelope's id). Sends run concurrently; one failing does not stop the
    others, and each failure is reported with its label.
    """
    result = RequeueResult()
    sends = []
    for label, letter in letters:
        try:
            resend = resend_of(letter, publisher.topics, lane=lane, replay_id=replay_id)
        except Refused as exc:
            result.refused.append((label, str(exc)))
            continue
        sends.append((label, publisher.publish_raw(resend.topic, resend.value, key=resend.key)))
    outcomes = await asyncio.gather(*(send for _, send in sends), return_exceptions=True)
    for (label, _), outcome in zip(sends, outcomes, strict=True):
        if isinstance(outcome, PublishError):
            result.failed.append((label, str(outcome)))
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            result.requeued += 1
    return result
