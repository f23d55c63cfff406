"""From one source record to the record a replay sends (or why it sends none).

An event is re-marked with the replay's id and keeps its id, key and payload,
so it maps to the same task ids as the original. A dead letter goes back as
its original record via :func:`producers.requeue.resend_of`, the one place
that knows how.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from aiokafka.structs import ConsumerRecord

from foundation.errors import DecodeError
from producers.replay.selection import Selection
from producers.requeue import Refused, Resend, resend_of
from schemas.envelope import Envelope, Replay, decode, encode, replayed
from schemas.events import DeadLetter
from schemas.topics import Topics

UNREADABLE = "(unreadable)"


@dataclass(frozen=True, slots=True)
class Converted:
    """What became of one source record: ``resend`` is ``None`` when it is not replayed."""

    partition: int
    offset: int
    kind: str  # the event type (of a dead letter: its original's), or UNREADABLE
    resend: Resend | None
    skipped: str | None = None  # why not: "filtered", "unreadable", "refused: ..."
    key: str | None = None


class Converter:
    """Applies one replay's selection and target to source records."""

    def __init__(self, selection: Selection, topics: Topics, replay_id: str) -> None:
        self._selection = selection
        self._topics = topics
        self._replay_id = replay_id
        self._mark = Replay(replay_id, selection.tasks)

    def __call__(self, record: ConsumerRecord) -> Converted:
        if not self._selection.in_time(record.timestamp):
            return Converted(record.partition, record.offset, "", None, "filtered")
        if self._selection.dead_letters:
            return self._letter(record)
        return self._event(record)

    def _event(self, record: ConsumerRecord) -> Converted:
        p, o = record.partition, record.offset
        key = record.key.decode("utf-8", "replace") if record.key is not None else None
        try:
            envelope = decode(record.value)
        except DecodeError:
            # The worker dead-lettered it already; replay its dead letter instead.
            return Converted(p, o, UNREADABLE, None, "unreadable")
        if not self._selection.filters.event(envelope):
            return Converted(p, o, envelope.type, None, "filtered")
        if self._selection.lane == "replay":
            topic = self._topics.replay.name
        else:
            topic = self._topics.for_event_type(envelope.type).name
        value = encode(replayed(envelope, self._mark))
        return Converted(p, o, envelope.type, Resend(topic, key, value), key=key)

    def _letter(self, record: ConsumerRecord) -> Converted:
        p, o = record.partition, record.offset
        try:
            letter = decode(record.value).data
            if not isinstance(letter, DeadLetter):
                raise DecodeError("wrong_type", "not a dead letter")
        except DecodeError:
            return Converted(p, o, UNREADABLE, None, "unreadable")
        original = _original(letter)
        kind = original.type if original is not None else (letter.event_type or UNREADABLE)
        if not self._selection.filters.letter(letter, original):
            return Converted(p, o, kind, None, "filtered")
        try:
            resend = resend_of(
                letter,
                self._topics,
                lane="replay" if self._selection.lane == "replay" else "live",
                replay_id=self._replay_id,
                tasks=self._selection.tasks,
            )
        except Refused as exc:
            return Converted(p, o, kind, None, f"refused: {exc}")
        return Converted(p, o, kind, resend, key=letter.original_key)


def _original(letter: DeadLetter) -> Envelope[Any] | None:
    try:
        return decode(base64.b64decode(letter.original_b64, validate=True))
    except (DecodeError, binascii.Error, ValueError):
        return None
