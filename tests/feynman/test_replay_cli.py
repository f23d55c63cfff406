"""`feynman replay` against a real broker: what it selects, where it sends, how it resumes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from foundation.settings import Settings
from schemas import ChatTurn, LlmUsage, decode, encode, new_envelope
from schemas.envelope import Envelope, rfc3339
from schemas.topics import Topics
from tests.support import child_env, read_topic


def replay(settings: Settings, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feynman.cli", "replay", "--no-progress", *args],
        capture_output=True,
        text=True,
        env=child_env(settings),
        timeout=timeout,
    )


def publish(settings: Settings, envelopes: list[Envelope[Any]]) -> None:
    async def send() -> None:
        topics = Topics.from_settings(settings)
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        await producer.start()
        try:
            for e in envelopes:
                key = getattr(e.data, "user_id", None) if e.type == "llm.usage" else e.data.session_id
                await producer.send_and_wait(topics.for_event_type(e.type).name, encode(e), key=key.encode())
        finally:
            await producer.stop()

    asyncio.run(send())


def turns(session_count: int, per_session: int, tag: str) -> list[Envelope[Any]]:
    return [
        new_envelope(ChatTurn(session_id=f"s{s}", topic="tides", user_input=f"{tag} {n}"))
        for n in range(per_session)
        for s in range(session_count)
    ]


def lane_records(settings: Settings, count: int, timeout: float = 10) -> list[Any]:
    topic = Topics.from_settings(settings).replay.name
    return asyncio.run(read_topic(settings.kafka_bootstrap, topic, count=count, timeout=timeout))


def test_a_time_range_replays_exactly_the_events_inside_it_into_the_replay_lane(settings: Settings) -> None:
    before, inside, after = turns(3, 2, "before"), turns(3, 3, "inside"), turns(3, 2, "after")
    publish(settings, before)
    time.sleep(1.0)
    start = datetime.now(UTC)
    publish(settings, inside)
    end = datetime.now(UTC)
    time.sleep(1.0)
    publish(settings, after)

    result = replay(settings, "conversations", "--from", rfc3339(start), "--to", rfc3339(end))

    assert result.returncode == 0, result.stderr
    assert "sent 9 of 9 records scanned" in result.stdout
    copies = lane_records(settings, count=len(inside) + 1, timeout=5)
    assert sorted(decode(r.value).id for r in copies) == sorted(e.id for e in inside)
    replay_ids = {decode(r.value).replay_id for r in copies}
    assert len(replay_ids) == 1 and None not in replay_ids
    by_id = {e.id: e for e in inside}
    for r in copies:
        copy = decode(r.value)
        assert r.key == copy.data.session_id.encode()
        assert copy.data == by_id[copy.id].data
    for session in ("s0", "s1", "s2"):  # each session's copies keep their order
        order = [decode(r.value).data.user_input for r in copies if r.key == session.encode()]
        assert order == ["inside 0", "inside 1", "inside 2"]


def test_a_dry_run_counts_per_type_and_partition_and_sends_nothing(settings: Settings) -> None:
    usage = new_envelope(
        LlmUsage(model="m", prompt_tokens=1, completion_tokens=1, latency_ms=1, user_id="u-1")
    )
    events = turns(2, 2, "dry")
    publish(settings, events)
    publish(settings, [usage])

    result = replay(settings, "conversations", "--dry-run", "--session", "s1")

    assert result.returncode == 0, result.stderr
    assert "would send 2 of 4 records scanned" in result.stdout
    [line] = [line for line in result.stdout.splitlines() if line.strip().startswith("chat.turn")]
    assert line.split()[1] == "2"
    assert "not sent (filtered): 2" in result.stdout
    assert result.stdout.count("sample chat.turn key=s1") == 2
    assert lane_records(settings, count=1, timeout=3) == []


def test_a_replay_stopped_at_its_limit_and_resumed_sends_every_event_exactly_once(settings: Settings) -> None:
    events = turns(4, 10, "resume")
    publish(settings, events)

    first = replay(settings, "conversations", "--limit", "13")
    assert first.returncode == 0, first.stderr
    assert "stopped at --limit" in first.stdout
    replay_id = first.stdout.split()[1].rstrip(":")
    assert len(lane_records(settings, count=14, timeout=4)) == 13

    second = replay(settings, "--resume", replay_id)

    assert second.returncode == 0, second.stderr
    assert "(40 in all runs)" in second.stdout and "finished" in second.stdout
    copies = lane_records(settings, count=41, timeout=5)
    assert sorted(decode(r.value).id for r in copies) == sorted(e.id for e in events)
    assert {decode(r.value).replay_id for r in copies} == {replay_id}
    for s in range(4):
        order = [decode(r.value).data.user_input for r in copies if r.key == f"s{s}".encode()]
        assert order == [f"resume {n}" for n in range(10)]
    again = replay(settings, "--resume", replay_id)
    assert again.returncode == 0, again.stderr
    assert len(lane_records(settings, count=41, timeout=3)) == 40


def test_explicit_offsets_replay_only_that_range_of_that_partition_to_the_live_topic(
    settings: Settings,
) -> None:
    events = [new_envelope(ChatTurn(session_id="one", topic="t", user_input=f"n {n}")) for n in range(6)]
    publish(settings, events)
    partition = asyncio.run(
        read_topic(settings.kafka_bootstrap, Topics.from_settings(settings).conversations.name, count=6)
    )[0].partition

    result = replay(settings, "conversations", "--offsets", f"{partition}:2-3", "--lane", "live")

    assert result.returncode == 0, result.stderr
    live = asyncio.run(
        read_topic(settings.kafka_bootstrap, Topics.from_settings(settings).conversations.name, count=9)
    )
    copies = [decode(r.value) for r in live if decode(r.value).replay_id is not None]
    assert [c.id for c in copies] == [events[2].id, events[3].id]


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["conversations", "--from", "-1h"], 3, "nothing selected"),
        (["conversations", "--from", "2999-01-01T00:00:00Z"], 2, "is in the future"),
        (["conversations", "--from", "-1h", "--to", "-2h"], 2, "the time range is empty"),
        (["conversations", "--from", "yesterday"], 2, "neither RFC 3339"),
        (["no_such_topic"], 2, "cannot replay topic 'no_such_topic'"),
        (["conversations", "--offsets", "0:9-3"], 2, "the range is empty"),
        (["--resume", "0190b5c2-0000-7000-8000-000000000000"], 1, "no checkpoint"),
    ],
)
def test_bad_or_empty_selections_exit_with_their_code_and_one_line(
    settings: Settings, args: list[str], code: int, says: str
) -> None:
    result = replay(settings, *args)

    assert result.returncode == code, result.stderr
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_topic_missing_on_the_broker_is_one_line_and_exit_one(settings_factory: Any) -> None:
    settings = settings_factory()  # its topics were never created

    result = replay(settings, "conversations", "--from", rfc3339(datetime.now(UTC) - timedelta(hours=1)))

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: topic {Topics.from_settings(settings).conversations.name} does not exist on the broker "
        "(run `feynman topics create`)"
    ]
