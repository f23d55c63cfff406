"""Reading the pipeline's input records: where each came from, and whether it can be read at all.

A record that cannot be read (no value, too large, not an envelope, on the
wrong topic, keyed otherwise than its ordering key) raises a
:class:`DecodeError` whose reason its dead letter carries.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from faust.types import EventT

from foundation.errors import DecodeError
from schemas.envelope import Envelope, decode, ordering_key
from schemas.events import TaskRetry
from schemas.topics import Topics, TopicSpec


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record first entered the pipeline, kept through every retry."""

    topic: str
    partition: int
    offset: int
    key: str | None
    raw: bytes

    @classmethod
    def of(cls, event: EventT[Any]) -> Origin:
        msg = event.message
        key = msg.key.decode("utf-8", "replace") if isinstance(msg.key, bytes) else msg.key
        value = msg.value if msg.value is not None else event.value
        # A tombstone (null value) has no bytes; it is dead-lettered as ``null_value``.
        raw = b"" if value is None else value if isinstance(value, bytes) else bytes(value)
        return cls(msg.topic, msg.partition, msg.offset, key, raw)


def check_key(key: str | None, envelope: Envelope[Any]) -> None:
    """The record's key must be the event's ordering key (docs/architecture.md, contract 2).

    Tables keyed by session live in the partition of the record's key; a record
    keyed otherwise would land its state where no lookup finds it and break
    per-session order, so it is refused with a reason instead.
    """
    want = ordering_key(envelope)
    if key != want:
        raise DecodeError("wrong_key", f"record key {key!r} is not the event's ordering key {want!r}")


def validate(
    event: EventT[Any], origin: Origin, source: TopicSpec, topics: Topics, max_bytes: int
) -> Envelope[Any]:
    """The record's envelope, or a :class:`DecodeError` naming why it is poison (dead-lettered)."""
    if event.message.value is None:
        raise DecodeError("null_value", "the record's value is null (a tombstone), not an envelope")
    if len(origin.raw) > max_bytes:
        raise DecodeError(
            "too_large",
            f"the record is {len(origin.raw)} bytes, over the {max_bytes} "
            "bytes an input record may have (FEYNMAN_MAX_RECORD_BYTES)",
        )
    envelope = decode(origin.raw)
    if source is not topics.replay and topics.for_event_type(envelope.type) is not source:
        raise DecodeError("wrong_topic", f"{envelope.type} events do not belong on {source.name}")
    check_key(origin.key, envelope)
    return envelope


def retry_record(event: EventT[Any], spec: TopicSpec) -> tuple[TaskRetry, Origin, Envelope[Any]]:
    """A retry tier's record: what to retry, where its input first entered, and the input itself."""
    try:
        record = decode(event.value)
        if not isinstance(record.data, TaskRetry):
            raise DecodeError("wrong_topic", f"{record.type} events do not belong on {spec.name}")
        retry = record.data
        raw = base64.b64decode(retry.original_b64)
        envelope = decode(raw)
    except ValueError as exc:
        raise DecodeError("bad_retry_record", str(exc)) from exc
    origin = Origin(retry.origin_topic, retry.origin_partition, retry.origin_offset, retry.original_key, raw)
    return retry, origin, envelope
