"""`feynman publish`: good lines reach Kafka in order, bad lines are reported by number and not sent."""

from __future__ import annotations

import subprocess
import sys

import orjson

from foundation.settings import Settings
from schemas import decode
from schemas.topics import Topics
from tests.support import child_env, read_topic


def turn(n: int) -> bytes:
    data = {"session_id": "s-cli", "topic": "tides", "user_input": f"explanation number {n}"}
    return orjson.dumps({"type": "chat.turn", "v": 1, "data": data})


def test_publish_sends_valid_lines_in_order_and_reports_bad_ones_by_line_number(settings: Settings) -> None:
    lines = [
        turn(1),
        b"{not json",
        turn(2),
        b"",
        orjson.dumps({"type": "chat.turn", "v": 9, "data": {}}),
        orjson.dumps({"type": "no.such.type", "v": 1, "data": {}}),
        turn(3),
    ]
    result = subprocess.run(
        [sys.executable, "-m", "feynman.cli", "publish", "-"],
        input=b"\n".join(lines) + b"\n",
        capture_output=True,
        env=child_env(settings),
        timeout=60,
    )
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert "line 2: not_json" in err
    assert "line 5: unknown_version" in err
    assert "line 6: unknown_type" in err
    assert "published 3, rejected 3" in err

    topic = Topics.from_settings(settings).conversations.name
    records = await_records(settings, topic, 3)
    inputs = [decode(r.value).data.user_input for r in records]
    assert inputs == ["explanation number 1", "explanation number 2", "explanation number 3"]
    assert {r.key for r in records} == {b"s-cli"}


def test_publish_exits_zero_when_every_line_is_valid(settings: Settings, tmp_path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(turn(1) + b"\n" + turn(2) + b"\n")
    result = subprocess.run(
        [sys.executable, "-m", "feynman.cli", "publish", str(path)],
        capture_output=True,
        env=child_env(settings),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert "published 2, rejected 0" in result.stderr.decode()
    assert len(result.stdout.decode().splitlines()) == 2


def await_records(settings: Settings, topic: str, count: int) -> list:
    import asyncio

    return asyncio.run(read_topic(settings.kafka_bootstrap, topic, count=count, timeout=10))
