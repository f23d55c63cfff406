"""Topic declarations (docs/architecture.md, contract 3): names, partitions, configs, routing by type."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from foundation.settings import Settings
from schemas.events import EXTERNAL_EVENT_TYPES
from schemas.registry import REGISTRY
from schemas.topics import Topics


@pytest.fixture(autouse=True)
def no_feynman_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings read FEYNMAN_* variables; these tests decide them explicitly."""
    for name in list(os.environ):
        if name.startswith("FEYNMAN_"):
            monkeypatch.delenv(name)
    yield


def topics(**settings: object) -> Topics:
    return Topics.from_settings(Settings(**settings))  # type: ignore[arg-type]


def test_all_topic_names_are_unique_and_start_with_the_prefix() -> None:
    names = [spec.name for spec in topics(topic_prefix="t0a1b2c3").all()]

    assert len(names) == len(set(names)) >= len(dataclasses.fields(Topics))
    assert all(name.startswith("t0a1b2c3.") for name in names), names


def test_two_prefixes_share_no_topic() -> None:
    first = {spec.name for spec in topics(topic_prefix="blue").all()}
    second = {spec.name for spec in topics(topic_prefix="green").all()}

    assert first.isdisjoint(second)


def test_the_default_names_are_the_ones_the_readme_gives_to_kafka_clients() -> None:
    default = topics()

    assert default.conversations.name == "feynman.conversations"
    assert default.dead_letter.name == "feynman.dead-letter"


def test_the_readme_names_the_default_input_and_dead_letter_topics() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    default = topics()

    assert f"`{default.conversations.name}`" in readme
    assert f"`{default.dead_letter.name}`" in readme


def test_the_status_topic_is_the_status_tables_changelog_compacted_and_partitioned_like_the_inputs() -> None:
    # Status rows are written in the partition of the task's input: one partition count for all.
    t = topics(topic_partitions=7)

    assert t.task_status.cleanup_policy == "compact"
    assert t.task_status.config()["cleanup.policy"] == "compact"
    assert t.task_status.partitions == t.conversations.partitions == t.llm_usage.partitions == 7


def test_the_transcripts_changelog_is_compacted_and_partitioned_like_conversations() -> None:
    t = topics(topic_partitions=7)

    assert t.transcripts_changelog.cleanup_policy == "compact"
    assert t.transcripts_changelog.config()["cleanup.policy"] == "compact"
    assert t.transcripts_changelog.partitions == t.conversations.partitions == 7


def test_a_compacted_changelog_keeps_its_latest_values_forever() -> None:
    t = topics()

    for spec in (t.task_status, t.transcripts_changelog):
        assert spec.config()["retention.ms"] == "-1", spec.name


def test_event_topics_delete_old_records_after_a_retention() -> None:
    t = topics()

    for spec in (t.conversations, t.llm_usage, t.dead_letter):
        assert spec.cleanup_policy == "delete"
        assert int(spec.config()["retention.ms"]) > 0, spec.name


def test_the_dead_letter_topic_accepts_records_larger_than_the_ones_it_holds() -> None:
    # A dead letter carries the original bytes (base64) plus reason and traceback.
    config = topics().dead_letter.config()

    assert int(config["max.message.bytes"]) >= 2 * 1024 * 1024


@pytest.mark.parametrize("event_type", REGISTRY.types())
def test_every_registered_event_type_is_published_to_a_declared_event_topic(event_type: str) -> None:
    t = topics()

    spec = t.for_event_type(event_type)

    assert spec in t.all()
    if spec is t.task_status:
        # The one exception: the workers' status table writes it, as its changelog.
        assert spec.cleanup_policy == "compact"
    else:
        assert spec.cleanup_policy == "delete", "changelogs belong to tables, not to producers"


@pytest.mark.parametrize(
    ("event_type", "attribute"),
    [
        ("chat.turn", "conversations"),
        ("memory.requested", "conversations"),
        ("conversation.ended", "conversations"),
        ("llm.usage", "llm_usage"),
        ("task.status", "task_status"),
        ("task.expired", "task_status"),
        ("dead.letter", "dead_letter"),
        ("table.expiry", "table_expiry"),
        ("analysis.completed", "analysis_results"),
        ("memory.consolidated", "memories"),
        ("cost.report", "cost_reports"),
        ("monitoring.snapshot", "monitoring"),
    ],
)
def test_each_event_type_goes_to_its_own_topic(event_type: str, attribute: str) -> None:
    t = topics()

    assert t.for_event_type(event_type) is getattr(t, attribute)


def test_the_routing_table_above_names_every_registered_type() -> None:
    routed = {
        "chat.turn",
        "memory.requested",
        "conversation.ended",
        "llm.usage",
        "task.status",
        "dead.letter",
        "task.retry",
        "task.expired",
        "table.expiry",
        "analysis.completed",
        "memory.consolidated",
        "cost.report",
        "monitoring.snapshot",
    }

    assert routed == set(REGISTRY.types())


def test_a_retry_waits_in_the_longest_tier_not_above_its_delay() -> None:
    t = topics()

    assert t.retry_tier_for(0.2) is t.retry_tiers[0]
    assert t.retry_tier_for(1.0) is t.retry_tiers[0]
    assert t.retry_tier_for(45.0).name.endswith("retry-10s")
    assert t.retry_tier_for(86_400).name.endswith("retry-10m")


def test_partitions_follow_feynman_topic_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEYNMAN_TOPIC_PARTITIONS", "5")
    monkeypatch.setenv("FEYNMAN_REPLICATION_FACTOR", "3")

    specs = Topics.from_settings(Settings()).all()

    assert {spec.partitions for spec in specs} == {5}
    assert {spec.replication_factor for spec in specs} == {3}


def test_the_prefix_follows_feynman_topic_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEYNMAN_TOPIC_PREFIX", "staging")

    t = Topics.from_settings(Settings())

    assert t.conversations.name == "staging.conversations"
    assert t.dead_letter.name == "staging.dead-letter"


def test_every_topic_explains_what_it_holds() -> None:
    assert all(spec.description.strip() for spec in topics().all())


def test_the_external_event_types_are_registered_and_go_to_the_input_topic() -> None:
    """POST /events takes exactly these: each must exist and land on the topic outside clients feed."""
    declared = topics()
    assert set(REGISTRY.types()) >= EXTERNAL_EVENT_TYPES
    for event_type in EXTERNAL_EVENT_TYPES:
        assert declared.for_event_type(event_type) == declared.conversations, event_type
