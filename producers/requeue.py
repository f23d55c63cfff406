"""Sending dead letters back for another try: the one place that republishes them.

A dead letter keeps its record's exact bytes and key and the topic it first
entered, so a requeue is that record published again there: same key (same
partition, same per-session order), same bytes (same event id, so the same
task ids; work already completed is skipped by the worker). Used by the web
view's action, and meant for any later replay tool.

Only the pipeline's input topics are accepted as destinations: a dead letter
is data anyone could have written, and it must not be able to steer a
republish into a changelog or back into the dead-letter topic.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field

from feynman.errors import PublishError
from producers.publisher import Publisher
from schemas.events import DeadLetter
from schemas.topics import Topics


@dataclass
class RequeueResult:
    requeued: int = 0
    # Dead letters not sent, with why: (label, reason).
    refused: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def requeue_targets(topics: Topics) -> frozenset[str]:
    """Topics a dead letter may be sent back to: those the worker reads events from."""
    return frozenset({topics.conversations.name, topics.llm_usage.name, topics.task_status.name})


async def requeue_dead_letters(
    publisher: Publisher, letters: Iterable[tuple[str, DeadLetter]]
) -> RequeueResult:
    """Republish each ``(label, letter)``'s original bytes with its original key to its origin topic.

    ``label`` names the letter in the result (the view uses the dead-letter
    envelope's id). Sends run concurrently; one failing does not stop the
    others, and each failure is reported with its label.
    """
    allowed = requeue_targets(publisher.topics)
    result = RequeueResult()
    sends = []
    for label, letter in letters:
        if letter.origin_topic not in allowed:
            result.refused.append((label, f"origin topic {letter.origin_topic!r} is not an input topic"))
            continue
        try:
            raw = base64.b64decode(letter.original_b64, validate=True)
        except (binascii.Error, ValueError):
            result.refused.append((label, "original_b64 is not valid base64"))
            continue
        sends.append((label, publisher.publish_raw(letter.origin_topic, raw, key=letter.original_key)))
    outcomes = await asyncio.gather(*(send for _, send in sends), return_exceptions=True)
    for (label, _), outcome in zip(sends, outcomes, strict=True):
        if isinstance(outcome, PublishError):
            result.failed.append((label, str(outcome)))
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            result.requeued += 1
    return result
