"""Is the worker making progress? Commit progress and lag per partition, and the stall decision.

faust-streaming workers have been seen to stop consuming without crashing or
logging an error, sometimes for a whole worker, often for only some of its
partitions while others go on (faust-streaming issues 166, 471, 523, 629). A
process that is up but does nothing passes every "is it up" check, so the
health route asks this module whether the committed offsets still move while
there is work waiting.

This module is plain Python on purpose: it is fed observations (an assignment,
commits, committed offsets, log start and end offsets) stamped with a clock
value, and the decision is a pure function of them, so it is unit-tested with a
fake clock. ``streams.health`` feeds it from Faust.

The rule, per assigned partition: the partition is *stalled* when it has lag
(log end offset above the committed offset) and its committed offset has not
advanced for ``stall_after_s`` seconds. The clock of a partition starts at the
latest of: when this worker got it (a fresh start or a rebalance is not a
stall), when its committed offset last advanced, and when lag was first seen
on it after it had none (an idle partition that just received a record has
not been "waiting" since its last commit an hour ago). The worker is stalled
when any partition is. Per partition rather than the worker's total, because a
worker whose other partitions (or whose status topic, fed by the worker
itself) keep committing would otherwise hide a partition that stopped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# (topic, partition): Faust's ``TP`` is a named tuple of the same shape.
TopicPartition = tuple[str, int]


@dataclass
class PartitionState:
    """What is known about one assigned partition. Times are clock values, offsets Kafka's."""

    assigned_at: float
    # The next offset the group will read (Kafka's committed offset), or None if unknown.
    committed: int | None = None
    # Log start and log end (high watermark): the records the partition holds now.
    earliest: int | None = None
    highwater: int | None = None
    # When the committed offset last advanced while this worker held the partition.
    last_commit_at: float | None = None
    # When lag was first seen after a time without lag; None while there is none.
    lagging_since: float | None = None
    # A first commit made before the log start was read: its records are counted once it is.
    uncounted_first_commit: int | None = None

    @property
    def lag(self) -> int | None:
        """Records between the committed offset and the log end; None until the log end is known.

        Without a committed offset the group starts at the log start (the
        worker reads from ``earliest``), and records below the log start are
        gone, so they are not counted as work waiting either.
        """
        if self.highwater is None:
            return None
        start = max((x for x in (self.committed, self.earliest) if x is not None), default=0)
        return max(0, self.highwater - start)

    def last_progress_at(self) -> float:
        """The last commit progress, or the assignment if there was none since."""
        if self.last_commit_at is None:
            return self.assigned_at
        return max(self.assigned_at, self.last_commit_at)

    def clock_start(self) -> float:
        """Since when the partition has been waiting for this worker without commit progress."""
        start = self.last_progress_at()
        return start if self.lagging_since is None else max(start, self.lagging_since)

    def stalled(self, now: float, stall_after_s: float) -> bool:
        lag = self.lag
        if not lag or self.lagging_since is None:
            return False
        return now - self.clock_start() >= stall_after_s


@dataclass(frozen=True)
class PartitionReport:
    """One partition as the health route and the metrics show it."""

    topic: str
    partition: int
    committed: int | None
    highwater: int | None
    lag: int | None
    # Since the committed offset last advanced on this worker; None if it has not since assignment.
    seconds_since_last_commit: float | None
    stalled: bool


@dataclass(frozen=True)
class LivenessReport:
    """The worker's commit progress at one instant."""

    partitions: tuple[PartitionReport, ...]
    # Sum of the known lags.
    lag: int
    # Since any committed offset last advanced; None if none has since assignment.
    seconds_since_last_commit: float | None
    # Since the last advance, or since assignment if there was none (a gauge needs a number);
    # None only without partitions.
    seconds_without_commit: float | None
    stalled: bool
    stall_after_s: float
    commits_total: int
    committed_records: Mapping[str, int]

    @property
    def stalled_partitions(self) -> list[PartitionReport]:
        return [p for p in self.partitions if p.stalled]


@dataclass
class Liveness:
    """Observations of one worker's partitions, and whether they are stalled."""

    partitions: dict[TopicPartition, PartitionState] = field(default_factory=dict)
    # Commits in which at least one offset advanced, over the process's life.
    commits_total: int = 0
    # Records committed past, per topic, over the process's life (for a rate).
    committed_records: Counter[str] = field(default_factory=Counter)

    def assign(self, tps: Iterable[TopicPartition], now: float) -> None:
        """The worker's current partitions: new ones start their clock now, gone ones are forgotten."""
        current = {(str(t), int(p)) for t, p in tps}
        for tp in list(self.partitions):
            if tp not in current:
                del self.partitions[tp]
        for tp in current:
            self.partitions.setdefault(tp, PartitionState(assigned_at=now))

    def restart_clock(self, now: float) -> None:
        """A rebalance ended: processing was paused for it, so no partition was waiting on us."""
        for state in self.partitions.values():
            state.assigned_at = now

    def observe_commits(self, offsets: Mapping[TopicPartition, int], now: float) -> None:
        """The consumer committed these offsets (one commit, possibly several partitions)."""
        advanced = False
        for tp, offset in offsets.items():
            state = self.partitions.get(tp)
            if state is None:
                continue
            if state.committed is None or offset > state.committed:
                self._advance(tp, state, offset, now)
                advanced = True
            else:
                state.committed = offset
            self._update_lagging(state, now)
        if advanced:
            self.commits_total += 1

    def observe_committed(self, tp: TopicPartition, offset: int, now: float) -> None:
        """A reading of the committed offset, not a commit: a first reading is a baseline, not progress.

        Readings catch up with commits the commit hook missed; a reading below
        the known offset (offsets reset by an operator) is taken as the truth.
        """
        state = self.partitions.get(tp)
        if state is None:
            return
        if state.committed is not None and offset > state.committed:
            self._advance(tp, state, offset, now)
        else:
            state.committed = offset
        self._update_lagging(state, now)

    def observe_offsets(
        self, tp: TopicPartition, now: float, *, highwater: int | None, earliest: int | None = None
    ) -> None:
        """The partition's log end (high watermark) and log start as the broker reported them."""
        state = self.partitions.get(tp)
        if state is None:
            return
        if highwater is not None:
            state.highwater = highwater
        if earliest is not None:
            state.earliest = earliest
            if state.uncounted_first_commit is not None:
                self.committed_records[tp[0]] += max(0, state.uncounted_first_commit - earliest)
                state.uncounted_first_commit = None
        self._update_lagging(state, now)

    def stalled(self, now: float, stall_after_s: float) -> bool:
        """True when some partition has lag and no commit progress for ``stall_after_s`` seconds."""
        _check_stall_after(stall_after_s)
        return any(state.stalled(now, stall_after_s) for state in self.partitions.values())

    def report(self, now: float, stall_after_s: float) -> LivenessReport:
        _check_stall_after(stall_after_s)
        partitions = tuple(
            PartitionReport(
                topic=tp[0],
                partition=tp[1],
                committed=state.committed,
                highwater=state.highwater,
                lag=state.lag,
                seconds_since_last_commit=_since(now, state.last_commit_at),
                stalled=state.stalled(now, stall_after_s),
            )
            for tp, state in sorted(self.partitions.items())
        )
        states = self.partitions.values()
        last_commit = max((s.last_commit_at for s in states if s.last_commit_at is not None), default=None)
        progress = max((s.last_progress_at() for s in states), default=None)
        return LivenessReport(
            partitions=partitions,
            lag=sum(p.lag for p in partitions if p.lag is not None),
            seconds_since_last_commit=_since(now, last_commit),
            seconds_without_commit=_since(now, progress),
            stalled=any(p.stalled for p in partitions),
            stall_after_s=stall_after_s,
            commits_total=self.commits_total,
            committed_records=dict(self.committed_records),
        )

    def _advance(self, tp: TopicPartition, state: PartitionState, offset: int, now: float) -> None:
        previous = state.committed if state.committed is not None else state.earliest
        if previous is not None:
            self.committed_records[tp[0]] += max(0, offset - previous)
        else:  # the first commit of a partition whose log start is not read yet
            state.uncounted_first_commit = offset
        state.committed = offset
        state.last_commit_at = now

    @staticmethod
    def _update_lagging(state: PartitionState, now: float) -> None:
        if state.lag:
            if state.lagging_since is None:
                state.lagging_since = now
        else:
            state.lagging_since = None


def _since(now: float, then: float | None) -> float | None:
    return None if then is None else max(0.0, now - then)


def _check_stall_after(stall_after_s: float) -> None:
    if not stall_after_s > 0:
        raise ValueError(f"stall_after_s must be positive, not {stall_after_s!r}")
