"""``feynman publish`` input: JSON lines checked one by one before anything is sent."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from feynman.publish_lines import MAX_LINE_BYTES, BadLine, parse_lines


def line(obj: Any) -> bytes:
    return orjson.dumps(obj) + b"\n"


def chat_turn(session_id: str, text: str, **envelope: Any) -> dict[str, Any]:
    return {
        "type": "chat.turn",
        "v": 1,
        "data": {"session_id": session_id, "topic": "Photosynthesis", "user_input": text},
        **envelope,
    }


USAGE = {
    "type": "llm.usage",
    "v": 1,
    "data": {"model": "gpt-4o-mini", "prompt_tokens": 10, "completion_tokens": 5, "latency_ms": 80.0},
}
ENDED = {"type": "conversation.ended", "v": 1, "data": {"session_id": "s-1", "topic": "光合作用"}}


def test_good_lines_come_back_in_order_and_bad_ones_with_their_line_numbers() -> None:
    lines = [
        line(chat_turn("s-1", "Plants eat light.")),  # 1
        b"{not json\n",  # 2
        line(USAGE),  # 3
        b"[1, 2, 3]\n",  # 4
        line({**ENDED, "type": "chat.message"}),  # 5
        line(chat_turn("s-1", "植物利用阳光制造养分。")),  # 6
        line({**USAGE, "v": 9}),  # 7
        line(chat_turn("s-1", "x" * 20_001)),  # 8
        line({k: v for k, v in ENDED.items() if k != "data"}),  # 9
        line(ENDED),  # 10
    ]

    good, bad = parse_lines(lines)

    assert [(e.type, getattr(e.data, "user_input", None)) for e in good] == [
        ("chat.turn", "Plants eat light."),
        ("llm.usage", None),
        ("chat.turn", "植物利用阳光制造养分。"),
        ("conversation.ended", None),
    ]
    assert [(b.number, b.reason) for b in bad] == [
        (2, "not_json"),
        (4, "not_object"),
        (5, "unknown_type"),
        (7, "unknown_version"),
        (8, "invalid_payload"),
        (9, "missing_field"),
    ]


def test_blank_lines_are_skipped_but_still_counted() -> None:
    lines = [b"\n", b"   \r\n", line(USAGE), b"", b"\t\n", b"oops\n", b"\n"]

    good, bad = parse_lines(lines)

    assert [e.type for e in good] == ["llm.usage"]
    assert [(b.number, b.reason) for b in bad] == [(6, "not_json")]


def test_a_line_that_is_not_utf8_is_not_json() -> None:
    good, bad = parse_lines([b'{"type": "chat.turn", "v": 1, "data": {"topic": "caf\xe9"}}\n'])

    assert good == []
    assert [(b.number, b.reason) for b in bad] == [(1, "not_json")]


def test_a_missing_id_and_ts_are_filled_in() -> None:
    before = datetime.now(UTC)

    good, bad = parse_lines([line(USAGE), line(USAGE)])

    assert bad == []
    first, second = good
    assert uuid.UUID(first.id).version == 7
    assert first.id != second.id
    assert first.id < second.id, "filled-in ids keep the order of the lines"
    assert before - timedelta(seconds=1) <= first.ts <= datetime.now(UTC) + timedelta(seconds=1)
    assert first.ts.utcoffset() == timedelta(0)


def test_a_given_id_and_ts_are_kept() -> None:
    given = chat_turn("s-1", "hello", id="my-event-1", ts="2024-05-01T12:00:00Z", source="kcat")

    good, bad = parse_lines([line(given)])

    assert bad == []
    (envelope,) = good
    assert envelope.id == "my-event-1"
    assert envelope.ts == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert envelope.source == "kcat"


def test_a_given_but_invalid_ts_is_reported_not_replaced() -> None:
    good, bad = parse_lines([line(chat_turn("s-1", "hello", ts="2024-05-01 noon"))])

    assert good == []
    assert [(b.number, b.reason) for b in bad] == [(1, "bad_field")]


def test_an_oversize_line_is_reported_as_too_large() -> None:
    huge = b'{"type": "chat.turn", "v": 1, "data": {"pad": "' + b"x" * MAX_LINE_BYTES + b'"}}\n'

    good, bad = parse_lines([line(USAGE), huge, line(ENDED)])

    assert [e.type for e in good] == ["llm.usage", "conversation.ended"]
    assert [(b.number, b.reason) for b in bad] == [(2, "too_large")]
    assert str(MAX_LINE_BYTES) in bad[0].message


def test_a_line_of_exactly_the_maximum_size_is_not_too_large() -> None:
    exact = b" " * (MAX_LINE_BYTES - len(line(USAGE))) + line(USAGE)
    assert len(exact) == MAX_LINE_BYTES

    good, bad = parse_lines([exact])

    assert bad == []
    assert [e.type for e in good] == ["llm.usage"]


def test_a_binary_file_object_can_be_read_directly() -> None:
    source = io.BytesIO(line(chat_turn("s-1", "one")) + b"\n" + b"nope\n" + line(chat_turn("s-1", "two")))

    good, bad = parse_lines(source)

    assert [e.data.user_input for e in good] == ["one", "two"]
    assert [(b.number, b.reason) for b in bad] == [(3, "not_json")]


def test_a_bad_line_prints_as_one_line_with_number_reason_and_message() -> None:
    _, bad = parse_lines([line(USAGE), line({**ENDED, "type": "chat.message"})])

    (problem,) = bad
    text = problem.line()
    assert text.startswith("line 2: unknown_type: ")
    assert "chat.message" in text
    assert "\n" not in text


def test_bad_line_is_a_plain_value() -> None:
    assert BadLine(3, "not_json", "x") == BadLine(3, "not_json", "x")
    assert BadLine(3, "not_json", "x").line() == "line 3: not_json: x"


def test_no_lines_give_nothing() -> None:
    assert parse_lines([]) == ([], [])
