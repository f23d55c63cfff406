"""``feynman publish``: JSON lines in, validated envelopes out to Kafka.

Every line is checked before anything is sent; bad lines are reported with
their numbers and skipped, good ones are published in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from foundation.errors import DecodeError
from schemas.envelope import Envelope, decode_obj, new_event_id, rfc3339

MAX_LINE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BadLine:
    number: int
    reason: str
    message: str

    def line(self) -> str:
        return f"line {self.number}: {self.reason}: {self.message}"


def parse_lines(lines: Iterable[bytes]) -> tuple[list[Envelope[Any]], list[BadLine]]:
    """Envelopes from JSON lines; ``id`` and ``ts`` are filled in when absent."""
    good: list[Envelope[Any]] = []
    bad: list[BadLine] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE_BYTES:
            bad.append(BadLine(number, "too_large", f"line exceeds {MAX_LINE_BYTES} bytes"))
            continue
        try:
            obj = orjson.loads(line)
            if isinstance(obj, dict):
                obj.setdefault("id", new_event_id())
                obj.setdefault("ts", rfc3339(datetime.now(UTC)))
            good.append(decode_obj(obj))
        except orjson.JSONDecodeError as exc:
            bad.append(BadLine(number, "not_json", str(exc)))
        except DecodeError as exc:
            bad.append(BadLine(number, exc.reason, exc.message))
    return good, bad
