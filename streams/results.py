"""Publishing a task's result event: deterministic id, keyed by its ordering key, acknowledged.

A handler may run twice for one task (at-least-once delivery), so its result event
gets an id derived from the task: the copy a re-run publishes has the same id, and
the task types downstream, whose task ids derive from that event id, skip it.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol

from pydantic import BaseModel

from schemas.envelope import Envelope, encode, new_envelope, ordering_key
from schemas.tasks import task_id
from schemas.topics import TopicSpec
from streams.runtime import Runtime
from streams.tasks import TaskContext


class PublishResult(Protocol):
    """Publishes a result event and returns its reference once Kafka acknowledged it.

    A parameter rather than a call on the runtime, so a handler runs without Kafka;
    the worker binds :func:`streams.results.publish_result` to the runtime and topic.
    """

    def __call__(self, payload: BaseModel, *, event_id: str) -> Awaitable[str]: ...


def result_event_id(context: TaskContext, part: str = "") -> str:
    """The id of the result event of ``context``'s task (``part`` tells several apart)."""
    return task_id(f"{context.task_type}.result{part}", context.task_id)


async def publish_result(rt: Runtime, spec: TopicSpec, payload: BaseModel, *, event_id: str) -> str:
    """Publish ``payload`` to ``spec`` and wait for Kafka's ack; returns a result reference."""
    return await publish_envelope(rt, spec, new_envelope(payload, event_id=event_id, source=rt.worker))


async def publish_envelope(rt: Runtime, spec: TopicSpec, envelope: Envelope[Any]) -> str:
    """Publish an event, keyed by its ordering key, and wait for Kafka's ack; returns its reference.

    Waiting for the ack is what lets a handler return only once its effects are
    durable (the runtime commits the input offset after the handler returns).
    """
    key = ordering_key(envelope)
    fut = await rt.topic(spec).send(key=key, value=encode(envelope))
    await fut
    return f"{spec.name}/{key}/{envelope.id}"
