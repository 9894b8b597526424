"""The consumer's watermark (streams/watermark.py): up to when every partition with records
left has been read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lanes.alerts.model import stored_at_clock
from streams.watermark import PartitionTimes

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
A, B, C = (
    ("borderflow.plate-reads", 0),
    ("borderflow.plate-reads", 1),
    ("borderflow.plate-reads", 2),
)


def test_no_partition_with_records_left_is_no_limit() -> None:
    times = PartitionTimes()
    times.backlog(set())
    assert times.advance([(A, T0), (B, T0 + MIN)]) is None


def test_the_oldest_time_reached_among_the_partitions_with_records_left() -> None:
    times = PartitionTimes()
    times.backlog(set())
    times.advance([(A, T0), (B, T0 + MIN), (C, T0 + 2 * MIN)])
    # a backlog: A drained up to 10:50, B and C still have records
    times.backlog({B, C})
    assert times.advance([(A, T0 + 50 * MIN)]) == T0 + MIN
    times.backlog({C})
    assert times.advance([(B, T0 + 40 * MIN)]) == T0 + 2 * MIN
    times.backlog(set())
    assert times.advance([(C, T0 + 45 * MIN)]) is None


def test_a_partition_reached_is_its_newest_time_not_its_last() -> None:
    times = PartitionTimes()
    times.backlog({A, B})
    assert times.advance([(A, T0 + 5 * MIN), (A, T0 + 2 * MIN), (B, T0 + 9 * MIN)]) == T0 + 5 * MIN


def test_a_partition_with_records_left_and_none_read_holds_everything_back() -> None:
    """After a restart on a backlog the first batch may hold one partition's hour: nothing
    is known of what the others hold, so nothing read can be judged yet."""
    times = PartitionTimes()
    times.backlog({B})
    mark = times.advance([(A, T0), (A, T0 + 60 * MIN)])
    assert mark is not None and mark < T0


def test_a_manifest_stored_when_the_clock_has_left_its_day_behind_counts_from_the_start() -> None:
    window_end = T0 + 8 * 60 * MIN  # 18:00 at the gate
    assert stored_at_clock(None, window_end) is None  # before any read: from the start
    assert stored_at_clock(T0, None) == T0  # no window: the clock
    assert stored_at_clock(T0, window_end) == T0  # before its window ends
    assert stored_at_clock(window_end + 12 * 60 * MIN, window_end) == window_end + 12 * 60 * MIN
    # the next day's reads were sent first: the clock is a day on
    assert stored_at_clock(T0 + 24 * 60 * MIN, window_end) is None
