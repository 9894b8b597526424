"""Open hours answered from a cached band: `hours.stretch`, `fit` and `fit_avoiding`, exactly,
without re-reading the merged intervals on every call.

`stretch(hours, at)` is the first merged interval (over the horizon of `at`'s local day) that
ends after `at`: for one local day it is constant between two consecutive interval ends. A
`Band` keeps the intervals of the last local day asked about and its last answer with the
span of `at` it holds for, so the next question about a nearby time costs four comparisons,
and one about another time of the same day a bisection. Pure; one Band per DailyHours of a gate.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache

from lanes.model import DailyHours
from lanes.policy import hours as reference
from lanes.policy.hours import HORIZON_DAYS, Interval

_DAY = timedelta(days=1)
_NEVER = datetime.min.replace(tzinfo=UTC)
# `Band.start`: (start, its stretch, the start and the stretch's end in the band's zone, whether
# the start is later than asked)
Start = tuple[datetime, Interval | None, datetime, datetime | None, bool]


class Band:
    __slots__ = (
        "always",
        "answer",
        "asked",
        "day_hi",
        "day_lo",
        "ends",
        "hi",
        "hours",
        "intervals",
        "lo",
        "offset",
        "tz",
        "value",
        "value_q",
    )

    def __init__(self, hours: DailyHours, utc_offset: timedelta) -> None:
        self.hours, self.offset = hours, utc_offset
        self.always = not hours.windows
        self.tz: timezone | None = None  # the zone every bound is kept in (chosen on first use)
        self.lo = self.hi = self.day_lo = self.day_hi = _NEVER
        self.value: Interval | None = None  # the answer, as `hours` gives it
        self.value_q: Interval = (_NEVER, _NEVER)  # the same instants, in `tz`
        self.intervals: tuple[Interval, ...] = ()  # the merged intervals of day_lo's horizon
        self.ends: tuple[datetime, ...] = ()  # their ends, in `tz`
        self.asked: datetime | None = None  # the last `start` asked (the same object) ...
        self.answer: Start = (_NEVER, None, _NEVER, None, False)  # ... and its answer

    def _local(self, at: datetime) -> datetime:
        """`at` in the band's zone: the same instant (comparisons between datetimes of one
        fixed-offset zone are exact and far faster than across two zones)."""
        tz = self.tz
        if tz is None:
            zone = at.tzinfo
            tz = self.tz = zone if isinstance(zone, timezone) else UTC
        if at.tzinfo is tz or at.tzinfo is None:  # naive: compares as the reference (fails)
            return at
        return at.astimezone(tz)

    def _stretch(self, at: datetime) -> Interval | None:
        """`stretch`, for `at` already in the band's zone."""
        if self.lo <= at < self.hi and self.day_lo <= at < self.day_hi:
            return self.value
        tz = self.tz
        if not self.day_lo <= at < self.day_hi:  # another local day: its horizon's intervals
            day = (at.astimezone(UTC) + self.offset).date()
            self.intervals, self.ends = _merged_in(self.hours, day, self.offset, tz)
            day_lo = datetime.combine(day, time(0), tzinfo=UTC) - self.offset
            self.day_lo, self.day_hi = day_lo.astimezone(tz), (day_lo + _DAY).astimezone(tz)
        ends = self.ends
        n = bisect_right(ends, at)
        self.lo = ends[n - 1] if n else self.day_lo
        self.hi = ends[n] if n < len(ends) else self.day_hi
        if n < len(self.intervals):
            self.value = value = self.intervals[n]
            self.value_q = (value[0].astimezone(tz), ends[n])
        else:
            self.value = None
        return self.value

    def stretch(self, at: datetime) -> Interval | None:
        """As `hours.stretch(self.hours, at, offset)`."""
        if self.always:
            return None
        return self._stretch(self._local(at))

    def start(self, at: datetime) -> Start:
        """When a job due at `at` starts (the lane's next open time), its stretch; for fast
        comparisons, the start and the stretch's end in the band's zone, and whether the
        start is later than `at` (the job waits for the hours)."""
        if at is self.asked:
            return self.answer
        if self.always:
            answer: Start = (at, None, at, None, False)
        else:
            local = self._local(at)
            window = self._stretch(local)
            if window is None:
                answer = (at, None, local, None, False)
            else:
                begin, end = self.value_q
                if begin > local:
                    answer = (window[0], window, begin, end, True)
                else:
                    answer = (at, window, local, end, False)
        self.asked, self.answer = at, answer
        return answer

    def fit(self, at: datetime, duration: timedelta) -> datetime | None:
        """As `hours.fit(self.hours, at, offset)`."""
        if self.always:
            return at
        if duration > timedelta(0):
            # the intervals before `at`'s stretch end at or before `at`: none can hold the job
            local = self._local(at)
            window = self._stretch(local)
            if window is not None:
                begin, end = self.value_q
                if local > begin:  # max(begin, at), as `fit`
                    if local + duration <= end:
                        return at
                elif begin + duration <= end:
                    return window[0]
        return reference.fit(self.hours, at, duration, self.offset)


@lru_cache(maxsize=1024)
def _merged_in(
    hours: DailyHours, local_day: date, utc_offset: timedelta, tz: timezone | None
) -> tuple[tuple[Interval, ...], tuple[datetime, ...]]:
    """`hours._merged`: the merged intervals (as it gives them) and their ends in `tz`."""
    intervals, ends = reference._merged(hours, local_day, utc_offset)
    return intervals, tuple(end.astimezone(tz) for end in ends)


def fit_avoiding(hours: Band, busy: Band, at: datetime, duration: timedelta) -> datetime | None:
    """As `hours.fit_avoiding(hours, busy, at, duration, offset)`."""
    start = hours.fit(at, duration)
    for _ in range(4 * HORIZON_DAYS):
        if start is None or busy.always:
            return start
        local = busy._local(start)
        blocked = busy._stretch(local)
        if blocked is None or busy.value_q[0] >= local + duration:
            return start
        start = hours.fit(blocked[1], duration)
    return None
