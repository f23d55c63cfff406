"""Every topic of the pipeline, declared once: name, partitions, configs.

Names derive from a prefix (``FEYNMAN_TOPIC_PREFIX``, default ``feynman``) so
that tests and parallel deployments never share data; nothing else in the
code base spells a topic name. With the default prefix the names are those
the README gives to Kafka clients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from foundation.settings import Settings

DAY_MS = 24 * 3600 * 1000
# Retry tiers: (name suffix, delay). A failed task waits in the tier whose delay
# is the longest not above the one its task type asks for.
RETRY_TIERS: tuple[tuple[str, float], ...] = (("1s", 1.0), ("10s", 10.0), ("1m", 60.0), ("10m", 600.0))


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """What a topic must look like on the broker."""

    name: str
    partitions: int
    replication_factor: int
    cleanup_policy: Literal["delete", "compact"]
    retention_ms: int | None
    description: str
    extra_config: dict[str, str] = field(default_factory=dict)

    def config(self) -> dict[str, str]:
        """Topic-level configs to set on creation and compare afterwards."""
        out = {"cleanup.policy": self.cleanup_policy, **self.extra_config}
        out["retention.ms"] = str(self.retention_ms if self.retention_ms is not None else -1)
        return out


@dataclass(frozen=True, slots=True)
class Topics:
    """The topic set for one deployment (one prefix, one partition count)."""

    conversations: TopicSpec
    llm_usage: TopicSpec
    task_status: TopicSpec
    transcripts_changelog: TopicSpec
    result_cache_changelog: TopicSpec
    analysis_results: TopicSpec
    memories: TopicSpec
    cost_reports: TopicSpec
    monitoring: TopicSpec
    session_analysis_changelog: TopicSpec
    learner_progress_changelog: TopicSpec
    consolidation_changelog: TopicSpec
    learner_memory_changelog: TopicSpec
    cost_user_day_changelog: TopicSpec
    cost_model_hour_changelog: TopicSpec
    dead_letter: TopicSpec
    replay: TopicSpec
    table_expiry: TopicSpec
    retry_tiers: tuple[TopicSpec, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> Topics:
        p = settings.topic_prefix
        n = settings.topic_partitions
        rf = settings.replication_factor

        def changelog(name: str, description: str) -> TopicSpec:
            return TopicSpec(f"{p}.{name}-table-changelog", n, rf, "compact", None, description)

        return cls(
            conversations=TopicSpec(
                f"{p}.conversations",
                n,
                rf,
                "delete",
                30 * DAY_MS,
                "Conversation events (chat.turn, memory.requested, conversation.ended), "
                "keyed by session id. The pipeline's input topic.",
            ),
            llm_usage=TopicSpec(
                f"{p}.llm-usage",
                n,
                rf,
                "delete",
                90 * DAY_MS,
                "llm.usage events, keyed by user (or session) id, for cost aggregation.",
            ),
            # The changelog of the workers' task_status table: one task.status record per
            # transition a worker recorded, keyed by task id, in the partition of the
            # task's input record (so co-partitioned with the input topics). Compacted:
            # the latest transition of each task is its status; expiry writes tombstones.
            task_status=TopicSpec(
                f"{p}.task-status",
                n,
                rf,
                "compact",
                None,
                "task.status records, keyed by task id: the task_status table's changelog.",
            ),
            # Co-partitioned with conversations: written while processing them.
            transcripts_changelog=TopicSpec(
                f"{p}.session-transcripts-table-changelog",
                n,
                rf,
                "compact",
                None,
                "Changelog of the session_transcripts table (compacted).",
            ),
            # Written while processing conversations, read by every worker (a global table).
            result_cache_changelog=TopicSpec(
                f"{p}.result-cache-table-changelog",
                n,
                rf,
                "compact",
                None,
                "Changelog of the result_cache table (compacted): result per task type and input hash.",
            ),
            # Result topics keyed by learner (user id, else session id): folds per
            # learner read them, so their tables are co-partitioned with them.
            analysis_results=TopicSpec(
                f"{p}.analysis",
                n,
                rf,
                "delete",
                30 * DAY_MS,
                "analysis.completed events (a turn's quality report), keyed by learner id.",
            ),
            memories=TopicSpec(
                f"{p}.memories",
                n,
                rf,
                "delete",
                90 * DAY_MS,
                "memory.consolidated events (a session digest), keyed by learner id.",
            ),
            cost_reports=TopicSpec(
                f"{p}.cost-reports",
                n,
                rf,
                "delete",
                400 * DAY_MS,
                "cost.report events, keyed by day (published by the leader worker).",
            ),
            monitoring=TopicSpec(
                f"{p}.monitoring",
                n,
                rf,
                "delete",
                7 * DAY_MS,
                "monitoring.snapshot events, keyed by worker.",
            ),
            # Each changelog is co-partitioned with the topic whose events write it.
            session_analysis_changelog=changelog(
                "session-analysis", "Changelog of session_analysis (conversations' keys: session id)."
            ),
            learner_progress_changelog=changelog(
                "learner-progress", "Changelog of learner_progress (analysis topic's keys: learner id)."
            ),
            consolidation_changelog=changelog(
                "consolidation-sessions", "Changelog of consolidation_sessions (conversations' keys)."
            ),
            learner_memory_changelog=changelog(
                "learner-memory", "Changelog of learner_memory (memories topic's keys: learner id)."
            ),
            cost_user_day_changelog=changelog(
                "cost-user-day", "Changelog of cost_user_day (llm-usage keys); a global table."
            ),
            cost_model_hour_changelog=changelog(
                "cost-model-hour", "Changelog of cost_model_hour (llm-usage keys); a global table."
            ),
            replay=TopicSpec(
                f"{p}.replay",
                n,
                rf,
                "delete",
                7 * DAY_MS,
                "The low-priority lane: replayed or backfilled events of any type, keyed like the "
                "originals. Workers serve it only with what live traffic leaves free.",
                {"max.message.bytes": str(2 * 1024 * 1024)},
            ),
            # Co-partitioned with every table's changelog: a request lands in the
            # partition of the row it prunes, on the worker that owns that row.
            table_expiry=TopicSpec(
                f"{p}.table-expiry",
                n,
                rf,
                "delete",
                DAY_MS,
                "table.expiry requests, keyed by row key, sent into the row's partition; "
                "the owning worker prunes the row there.",
            ),
            dead_letter=TopicSpec(
                f"{p}.dead-letter",
                n,
                rf,
                "delete",
                30 * DAY_MS,
                "Records that could not be processed, with reason and original bytes.",
                {"max.message.bytes": str(2 * 1024 * 1024)},
            ),
            retry_tiers=tuple(
                TopicSpec(
                    f"{p}.retry-{suffix}",
                    n,
                    rf,
                    "delete",
                    7 * DAY_MS,
                    f"task.retry records of failed tasks, due {delay:g} s after they failed.",
                    {"max.message.bytes": str(2 * 1024 * 1024)},
                )
                for suffix, delay in RETRY_TIERS
            ),
        )

    def all(self) -> list[TopicSpec]:
        return [
            self.conversations,
            self.llm_usage,
            self.task_status,
            self.transcripts_changelog,
            self.result_cache_changelog,
            self.analysis_results,
            self.memories,
            self.cost_reports,
            self.monitoring,
            self.session_analysis_changelog,
            self.learner_progress_changelog,
            self.consolidation_changelog,
            self.learner_memory_changelog,
            self.cost_user_day_changelog,
            self.cost_model_hour_changelog,
            self.dead_letter,
            self.replay,
            self.table_expiry,
            *self.retry_tiers,
        ]

    def retry_tier_for(self, delay_s: float) -> TopicSpec:
        """The tier with the longest delay not above ``delay_s`` (the shortest tier at least)."""
        chosen = self.retry_tiers[0]
        for spec, (_, delay) in zip(self.retry_tiers, RETRY_TIERS, strict=True):
            if delay <= delay_s:
                chosen = spec
        return chosen

    def for_event_type(self, event_type: str) -> TopicSpec:
        """The topic an event of ``event_type`` is published to."""
        if event_type == "llm.usage":
            return self.llm_usage
        if event_type in ("task.status", "task.expired"):
            return self.task_status
        if event_type == "dead.letter":
            return self.dead_letter
        if event_type == "table.expiry":
            return self.table_expiry
        if event_type == "analysis.completed":
            return self.analysis_results
        if event_type == "memory.consolidated":
            return self.memories
        if event_type == "cost.report":
            return self.cost_reports
        if event_type == "monitoring.snapshot":
            return self.monitoring
        if event_type == "task.retry":
            # The runtime picks the tier by delay (retry_tier_for); this is the shortest.
            return self.retry_tiers[0]
        return self.conversations
