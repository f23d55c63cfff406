"""The most recent dead letters, kept whole so an operator can read and requeue them.

Bounded to ``capacity`` letters (each holds its record's original bytes, up to
the topic's 2 MB limit, so the bound matters); counts per reason cover every
letter ever read, so the totals stay right after old letters are dropped.

The reasons are bounded too (``MAX_REASONS``): anyone who can write to the
dead-letter topic chooses them, and each distinct one would otherwise be a
counter and a Prometheus series forever. Past the bound, new reasons are
counted under ``OTHER_REASON``; the letters themselves keep their own.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import datetime

from schemas.events import DeadLetter

# How much of the original record the view shows; the requeue sends all of it.
PREVIEW_BYTES = 4096
# Distinct reasons counted by name; the pipeline itself writes a dozen or so.
MAX_REASONS = 100
OTHER_REASON = "other"


@dataclass(frozen=True, slots=True)
class Letter:
    """A dead letter and where it sits on the dead-letter topic."""

    id: str
    at: datetime
    partition: int
    offset: int
    letter: DeadLetter

    def original(self) -> bytes:
        """The original record's bytes (empty if the letter's base64 is broken: anyone can write letters)."""
        try:
            return base64.b64decode(self.letter.original_b64)
        except (binascii.Error, ValueError):
            return b""

    def preview(self) -> str:
        """The start of the original record as text (undecodable bytes replaced)."""
        return self.original()[:PREVIEW_BYTES].decode("utf-8", "replace")


class DeadLetterLog:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._letters: OrderedDict[str, Letter] = OrderedDict()
        self.reasons: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._letters)

    @property
    def total(self) -> int:
        return sum(self.reasons.values())

    def add(self, letter: Letter) -> None:
        if letter.id in self._letters:  # the same record read twice: count it once
            return
        self._letters[letter.id] = letter
        reason = letter.letter.reason
        if reason not in self.reasons and len(self.reasons) >= MAX_REASONS - 1:
            reason = OTHER_REASON  # one slot is kept for it
        self.reasons[reason] += 1
        while len(self._letters) > self.capacity:
            self._letters.popitem(last=False)

    def get(self, letter_id: str) -> Letter | None:
        return self._letters.get(letter_id)

    def newest(self, limit: int, reason: str | None = None) -> list[Letter]:
        out = []
        for letter in reversed(self._letters.values()):
            if reason is None or letter.letter.reason == reason:
                out.append(letter)
                if len(out) >= limit:
                    break
        return out
