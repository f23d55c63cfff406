"""The pipeline's declared topics and tables (``schemas.topics``) as Faust's.

Records stay raw bytes, so the pipeline decodes (and dead-letters) poison
records itself instead of Faust's deserializer crashing the agent; table keys
are raw strings, and every row's send is awaited by the work that wrote it.
"""

from __future__ import annotations

from typing import Any, cast

import faust
from faust.types import TopicT

from schemas.topics import TopicSpec
from streams.writes import track


class StrKeyTable(faust.Table):
    """A table whose keys are raw UTF-8, like the keys of the topics it mirrors.

    Faust writes a row with the table's serializers but restores it with its
    changelog topic's; a ``str`` key would be written as JSON (``"id"``) and
    come back quoted, losing every row on restart. Raw keys also hash like the
    status topic's keys, so ``table_route`` finds the worker that owns a task.
    """

    def _serializer_from_type(self, typ: Any) -> Any:
        return "raw" if typ is str else super()._serializer_from_type(typ)

    def send_changelog(
        self,
        partition: int | None,
        key: Any,
        value: Any,
        key_serializer: Any = None,
        value_serializer: Any = None,
    ) -> Any:
        # Every row write's own send future joins the current work's writes,
        # awaited before the input that caused it is acked (streams/writes.py).
        future = super().send_changelog(partition, key, value, key_serializer, value_serializer)
        track(self, key, future)
        return future

    def resend(self, key: Any, partition: int | None) -> Any:
        """Send ``key``'s current value (a tombstone if deleted) again, to the same partition."""
        return super().send_changelog(partition, key, self.get(key))


class StrKeyGlobalTable(StrKeyTable, faust.GlobalTable):
    """A :class:`StrKeyTable` every worker holds in full (all partitions)."""


def declare_topic(app: faust.App, spec: TopicSpec, *, internal: bool = False) -> TopicT:
    """A declared topic as Faust's, with its partitions, replication and configs."""
    return app.topic(
        spec.name,
        key_type=str,
        key_serializer="raw",
        value_serializer="raw",
        partitions=spec.partitions,
        replicas=spec.replication_factor,
        internal=internal,
        compacting=spec.cleanup_policy == "compact",
        config=spec.config(),
    )


def declare_table(
    app: faust.App,
    name: str,
    changelog: TopicSpec,
    *,
    help: str,
    table_class: type[faust.Table] = StrKeyTable,
    value_serializer: str = "json",
) -> faust.Table:
    """A changelog-backed table whose changelog is the declared topic (its partitions and configs)."""
    changelog_topic = app.topic(
        changelog.name,
        key_type=str,
        key_serializer="raw",
        value_serializer=value_serializer,
        partitions=changelog.partitions,
        replicas=changelog.replication_factor,
        internal=True,
        compacting=True,
        config=changelog.config(),
    )
    table = table_class(
        app,
        name=name,
        default=None,
        key_type=str,
        # No value_type: rows are plain JSON objects (``dict`` would make
        # the RocksDB store look for a Faust model's ``from_data``).
        partitions=changelog.partitions,
        changelog_topic=changelog_topic,
        help=help,
    )
    table.value_serializer = value_serializer  # Faust derives it from value_type otherwise
    return cast(faust.Table, app.tables.add(table))
