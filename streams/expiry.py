"""Scheduled expiry of table rows, applied in a stream, where Faust lets a table be written.

Faust writes a row to the changelog partition of the event being processed and,
with RocksDB, into that partition's database; a timer has no event, so it must
not write a table (RocksDB's store asserts on it). The timer here only asks: for
each row of its own partitions that its table's rule would shrink or delete, it
sends a ``table.expiry`` request into the row's partition of the table-expiry
topic. That topic is co-partitioned with every changelog, so the agent reading
that partition runs on the worker that owns the row, and it prunes the row as of
the request's time. The agent re-reads the row first, so a duplicate or stale
request (the row was written again since) changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import faust
from aiokafka.partitioner import DefaultPartitioner
from faust.types import EventT

from domain.session_retention import quiet_sessions
from foundation.errors import DecodeError
from schemas.envelope import decode, encode, new_envelope
from schemas.events import TableRowExpiry
from schemas.topics import TopicSpec
from streams.timers import guarded_timer

if TYPE_CHECKING:
    from streams.runtime import Runtime

log = logging.getLogger(__name__)
_partitioner = DefaultPartitioner()

# The row as it stands at the given time: the same object when nothing expired,
# a smaller row, or None to delete it.
Prune = Callable[[Any, datetime], Any]
# The partition a row lives in (its changelog partition), None when unknown.
PartitionOf = Callable[[str, Any], int | None]
# Rows examined between two yields to the event loop while scanning a table.
SCAN_SLICE = 1_000


@dataclass(frozen=True, slots=True)
class ExpiringTable:
    table: faust.Table
    prune: Prune
    partition_of: PartitionOf


async def rows(table: faust.Table) -> AsyncIterator[tuple[Any, Any]]:
    """Every row of the table as it was when the scan began, yielding to the event loop now and then.

    A timer scanning a big table in one go would stall every agent of the worker.
    """
    for seen, (key, row) in enumerate(list(table.data.items()), 1):
        if seen % SCAN_SLICE == 0:
            await asyncio.sleep(0)
        yield key, row


def stored_partition(_key: str, row: Any) -> int | None:
    """For rows that record their own partition (see :func:`current_partition`)."""
    partition = row.get("partition") if isinstance(row, dict) else None
    return partition if isinstance(partition, int) else None


def key_partition(spec: TopicSpec) -> PartitionOf:
    """For rows keyed like the records of ``spec`` that write them: the producer's partition of the key."""
    partitions = list(range(spec.partitions))

    def partition_of(key: str, _row: Any) -> int:
        return _partitioner(key.encode("utf-8"), partitions, partitions)

    return partition_of


def current_partition(table: faust.Table, key: str) -> int:
    """The partition a row written now lands in (the event's), for rows that must record it."""
    partition = table.partition_for_key(key)
    assert partition is not None  # tables here never use the producer's partitioner
    return partition


class TableExpiry:
    """The expiry rules of the tables that have one, their timer and their agent."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._tables: dict[str, ExpiringTable] = {}

    def register(self, table: faust.Table, prune: Prune, partition_of: PartitionOf) -> None:
        self._tables[table.name] = ExpiringTable(table, prune, partition_of)

    def register_session_table(self, table: faust.Table) -> None:
        """A table keyed by session and written while processing conversations: kept while it is active."""
        retention = timedelta(seconds=self._rt.settings.session_retention_s)
        self.register(table, quiet_sessions(retention), key_partition(self._rt.topics.conversations))

    def install(self) -> None:
        rt = self._rt
        spec = rt.topics.table_expiry

        rt.serial_agent(spec, "expire_table_rows", self._apply)

        @guarded_timer(rt.app, rt.settings.table_expiry_interval_s, name="table_expiry")
        async def request_expiry() -> None:
            if rt.app.rebalancing:
                return
            sent = await self.request(datetime.now(UTC))
            if sent:
                log.info("asked to prune %d expired table rows", sent)

    async def request(self, now: datetime) -> int:
        """Send a request for every row of this worker's partitions that is due at ``now``."""
        rt = self._rt
        spec = rt.topics.table_expiry
        topic = rt.topic(spec)
        mine = {tp.partition for tp in rt.app.consumer.assignment() if tp.topic == spec.name}
        sent = 0
        for name, rule in self._tables.items():
            async for key, row in rows(rule.table):
                text = key.decode("utf-8") if isinstance(key, bytes) else str(key)
                partition = rule.partition_of(text, row)
                if partition is None or partition not in mine or rule.prune(row, now) is row:
                    continue
                request = TableRowExpiry(table=name, key=text, as_of=now)
                value = encode(new_envelope(request, source=rt.worker))
                await topic.send(key=text, value=value, partition=partition)
                sent += 1
        return sent

    async def _apply(self, event: EventT[Any]) -> None:
        try:
            request = decode(event.value).data
            if not isinstance(request, TableRowExpiry):
                raise DecodeError("wrong_topic", f"{type(request).__name__} does not belong on table-expiry")
            rule = self._tables.get(request.table)
            if rule is None:
                raise DecodeError("unknown_table", f"no table {request.table!r} expires rows")
        except DecodeError as exc:
            await self._rt.outcomes.poison(event, exc.reason, exc.message)
            return
        table = rule.table
        row = table.get(request.key)
        if row is None:
            return
        pruned = rule.prune(row, request.as_of)
        if pruned is None:
            del table[request.key]  # a tombstone in the changelog partition of this event
        elif pruned is not row:
            table[request.key] = pruned
