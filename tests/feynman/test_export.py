"""``feynman export``: one learner's turns, analyses and memories from the real topics, flattened."""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from feynman.export import history
from foundation.settings import Settings
from schemas import AnalysisCompleted, ChatTurn, encode, new_envelope, ordering_key
from schemas.topics import Topics
from tests.support import child_env


async def test_export_keeps_only_the_learners_records_as_flat_rows(settings: Settings) -> None:
    topics = Topics.from_settings(settings)
    mine = new_envelope(ChatTurn(session_id="s1", topic="Gravity", user_input="Things fall.", user_id="u-x"))
    other = new_envelope(ChatTurn(session_id="s2", topic="Gravity", user_input="Other.", user_id="u-y"))
    analysis = new_envelope(
        AnalysisCompleted(
            learner_id="u-x",
            user_id="u-x",
            session_id="s1",
            topic="Gravity",
            turn_event_id=mine.id,
            explanation="Things fall.",
            report={"clarity": 42.0, "hedges": ["kind of"]},
        )
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for spec, envelope in (
            (topics.conversations, mine),
            (topics.conversations, other),
            (topics.analysis_results, analysis),
        ):
            await producer.send_and_wait(spec.name, encode(envelope), key=ordering_key(envelope).encode())
    finally:
        await producer.stop()

    env = child_env(settings)

    async def run(*args: str) -> subprocess.CompletedProcess[str]:
        # As an operator runs it: its own process, settings from the environment.
        command = [sys.executable, "-m", "feynman.cli", "export", *args]
        return await asyncio.to_thread(
            subprocess.run, command, capture_output=True, text=True, env=env, timeout=60
        )

    jsonl = await run("--user", "u-x")
    as_csv = await run("--user", "u-x", "--format", "csv")
    none = await run("--user", "u-x", "--topic", "chemistry")

    assert jsonl.returncode == 0, jsonl.stderr
    rows = [orjson.loads(line) for line in jsonl.stdout.splitlines()]
    assert sorted(r["kind"] for r in rows) == ["analysis", "turn"]
    [turn] = [r for r in rows if r["kind"] == "turn"]
    assert turn["event_id"] == mine.id and turn["user_input"] == "Things fall."
    [analysed] = [r for r in csv.DictReader(io.StringIO(as_csv.stdout)) if r["kind"] == "analysis"]
    assert analysed["report.clarity"] == "42.0" and analysed["report.hedges"] == '["kind of"]'
    assert none.stdout == ""


async def test_export_ends_on_a_topic_whose_last_offset_is_a_transaction_marker(settings: Settings) -> None:
    # Any Kafka client may write the topics; a transactional one ends each
    # partition with a commit marker, an offset no consumer ever receives.
    turn = new_envelope(ChatTurn(session_id="s1", topic="Gravity", user_input="Mass pulls.", user_id="u-t"))
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, transactional_id=f"{settings.app_id}-export-test"
    )
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send_and_wait(
                Topics.from_settings(settings).conversations.name, encode(turn), key=b"s1"
            )
    finally:
        await producer.stop()

    rows = await asyncio.wait_for(_collect(history(settings, "u-t")), timeout=30)

    assert [(r["kind"], r["event_id"]) for r in rows] == [("turn", turn.id)]


async def _collect(rows: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row async for row in rows]
