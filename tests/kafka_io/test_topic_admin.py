"""`feynman topics create` against the real broker: idempotent, and loud on mismatch."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from foundation.errors import TopicMismatchError
from foundation.settings import Settings
from kafka_io.topic_admin import ensure_topics, raise_on_mismatch
from schemas.topics import Topics


async def test_creating_topics_twice_creates_them_once_and_then_finds_them_matching(
    settings_factory: Callable[..., Settings],
) -> None:
    s = settings_factory()
    specs = Topics.from_settings(s).all()
    first = await ensure_topics(s.kafka, specs)
    assert [r.outcome for r in first] == ["created"] * len(specs)
    second = await ensure_topics(s.kafka, specs)
    assert [r.outcome for r in second] == ["exists"] * len(specs)
    raise_on_mismatch(second)


async def test_an_existing_topic_with_other_settings_is_reported_not_ignored(
    settings_factory: Callable[..., Settings],
) -> None:
    s = settings_factory(topic_partitions=2)
    await ensure_topics(s.kafka, Topics.from_settings(s).all())
    wider = s.model_copy(update={"topic_partitions": 3})
    reports = await ensure_topics(wider.kafka, Topics.from_settings(wider).all())
    assert {r.outcome for r in reports} == {"mismatch"}
    conversations = next(r for r in reports if r.name.endswith(".conversations"))
    assert "partitions 2 != declared 3" in conversations.line()
    with pytest.raises(TopicMismatchError, match="MISMATCH"):
        raise_on_mismatch(reports)


async def test_a_changed_topic_config_is_reported(settings_factory: Callable[..., Settings]) -> None:
    s = settings_factory()
    topics = Topics.from_settings(s)
    await ensure_topics(s.kafka, [topics.conversations])
    changed = dataclasses.replace(topics.conversations, retention_ms=1000)
    [report] = await ensure_topics(s.kafka, [changed])
    assert report.outcome == "mismatch"
    assert "retention.ms=" in report.line()
