"""How far in event time a consumer has read every partition: its watermark.

A topic's records are keyed (plate reads by camera), so each partition carries its own
stretch of event time, and a consumer that comes back to a backlog drains one partition
before another (aiokafka's `getmany` returns a partition's buffered records first). After a
batch, a partition with records still to read may hold reads older than the newest time the
batch reached: the watermark is the oldest time reached among those partitions. Up to it,
every read written before the batch was fetched has been handled; past it, some may still
be to come. A partition read to its end does not hold the watermark back (its next record
is one produced after the fetch, on time or late); when none has records left there is no
limit (None), as when the consumer keeps up.

What judges "nothing came" (the alert rules: a truck due out with no exit read) judges up to
the watermark only (services/service_layer/alert_step.py); decisions about a truck that is
there never wait for it. The replay gets each batch's watermark from the archive
(`archive_batches.watermark`), so it judges at the same times as the live worker did.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

Partition = tuple[str, int]  # (topic, partition)

_BEFORE = timedelta(microseconds=1)


class PartitionTimes:
    """The newest event time read from each partition, and the watermark from them."""

    def __init__(self) -> None:
        self.reached: dict[Partition, datetime] = {}
        self.earliest: datetime | None = None  # the oldest event time read at all
        self.behind: frozenset[Partition] = frozenset()  # records left after the batch

    def backlog(self, partitions: Collection[Partition]) -> None:
        """The partitions that have records left to read after the batch being handled
        (told by the consumer runtime before it hands the batch over)."""
        self.behind = frozenset(partitions)

    def advance(self, read: Iterable[tuple[Partition, datetime]]) -> datetime | None:
        """Take the batch's (partition, event time) pairs; the watermark after it: the
        oldest time reached by a partition with records left, or None when none has. A
        partition with records left and none read yet holds it before anything read (a
        microsecond before the oldest time read): nothing is known of what it holds."""
        reached = self.reached
        for partition, at in read:
            if partition not in reached or at > reached[partition]:
                reached[partition] = at
            if self.earliest is None or at < self.earliest:
                self.earliest = at
        if not self.behind:
            return None
        if any(p not in reached for p in self.behind):
            return None if self.earliest is None else self.earliest - _BEFORE
        return min(reached[p] for p in self.behind)
