"""Open hours as time intervals: when a lane (or a carrier) can work, and the earliest time a
job of a given length fits in one open stretch. Pure; local time is UTC plus the gate's offset.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from lanes.model import DailyHours

_DAY = timedelta(days=1)
HORIZON_DAYS = 8  # how far ahead a job is looked for a place before it is judged unfittable

Interval = tuple[datetime, datetime]


@lru_cache(maxsize=8192)
def _windows_of_day(
    hours: DailyHours, local_day: date, utc_offset: timedelta
) -> tuple[Interval, ...]:
    """The windows that start on `local_day` (local), as UTC intervals."""
    out = []
    for start, end in hours.windows:
        begin = datetime.combine(local_day, start, tzinfo=UTC) - utc_offset
        end_day = local_day if start < end else local_day + _DAY
        out.append((begin, datetime.combine(end_day, end, tzinfo=UTC) - utc_offset))
    return tuple(sorted(out))


def _intervals(hours: DailyHours, at: datetime, utc_offset: timedelta) -> tuple[Interval, ...]:
    """Merged open intervals around `at`, from the day before to HORIZON_DAYS after."""
    return _merged(hours, (at.astimezone(UTC) + utc_offset).date(), utc_offset)[0]


@lru_cache(maxsize=8192)
def _merged(
    hours: DailyHours, local_day: date, utc_offset: timedelta
) -> tuple[tuple[Interval, ...], tuple[datetime, ...]]:
    """The merged intervals and their ends (for bisection)."""
    first = local_day - _DAY
    raw = sorted(
        interval
        for n in range(HORIZON_DAYS + 2)
        for interval in _windows_of_day(hours, first + n * _DAY, utc_offset)
    )
    merged: list[Interval] = []
    for begin, end in raw:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return tuple(merged), tuple(end for _, end in merged)


def stretch(hours: DailyHours, at: datetime, utc_offset: timedelta) -> Interval | None:
    """The open stretch holding `at`, else the next one; None if open always or never again.
    A stretch that starts after `at` means closed at `at`."""
    if not hours.windows:
        return None
    intervals, ends = _merged(hours, (at.astimezone(UTC) + utc_offset).date(), utc_offset)
    n = bisect_right(ends, at)
    return intervals[n] if n < len(intervals) else None


@dataclass(frozen=True, slots=True)
class HoursNow:
    """A lane's hours as a controller reads them at a time: `windows` as in the gate file
    (`06:00-22:00`, local; none: open at all hours), whether `at` is within them, and when
    that changes next (None: never, within the horizon)."""

    windows: tuple[str, ...]
    in_hours: bool
    changes_at: datetime | None


def hours_now(hours: DailyHours, at: datetime, utc_offset: timedelta) -> HoursNow:
    """`hours` at `at`: open or closed by its hours, and until when."""
    windows = tuple(f"{start:%H:%M}-{end:%H:%M}" for start, end in hours.windows)
    if not hours.windows:
        return HoursNow(windows, in_hours=True, changes_at=None)
    found = stretch(hours, at, utc_offset)
    if found is None:
        return HoursNow(windows, in_hours=False, changes_at=None)
    begin, end = found
    return HoursNow(windows, in_hours=begin <= at, changes_at=end if begin <= at else begin)


def fit(
    hours: DailyHours, at: datetime, duration: timedelta, utc_offset: timedelta
) -> datetime | None:
    """The earliest start >= `at` with [start, start + duration] inside one open stretch;
    None if no stretch within the horizon is long enough."""
    if not hours.windows:
        return at
    for begin, end in _intervals(hours, at, utc_offset):
        start = max(begin, at)
        if start + duration <= end:
            return start
    return None


def fit_avoiding(
    hours: DailyHours,
    busy: DailyHours,
    at: datetime,
    duration: timedelta,
    utc_offset: timedelta,
) -> datetime | None:
    """As `fit`, and the job must not overlap a `busy` window (a carrier's charging)."""
    start = fit(hours, at, duration, utc_offset)
    for _ in range(4 * HORIZON_DAYS):
        if start is None or not busy.windows:
            return start
        blocked = stretch(busy, start, utc_offset)
        if blocked is None or blocked[0] >= start + duration:
            return start
        start = fit(hours, blocked[1], duration, utc_offset)
    return None


def local_hhmm(at: datetime, utc_offset: timedelta) -> str:
    """`at` in the gate's local time, as HH:MM (for reasons a person reads)."""
    return f"{at.astimezone(UTC) + utc_offset:%H:%M}"
