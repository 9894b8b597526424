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
from datetime import UTC, datetime, time, timedelta

from lanes.model import DailyHours
from lanes.policy import hours as reference
from lanes.policy.hours import HORIZON_DAYS, Interval

_DAY = timedelta(days=1)
_NEVER = datetime.min.replace(tzinfo=UTC)


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
        "value",
    )

    def __init__(self, hours: DailyHours, utc_offset: timedelta) -> None:
        self.hours, self.offset = hours, utc_offset
        self.always = not hours.windows
        self.lo = self.hi = self.day_lo = self.day_hi = _NEVER
        self.value: Interval | None = None
        self.intervals: tuple[Interval, ...] = ()  # the merged intervals of day_lo's horizon
        self.ends: tuple[datetime, ...] = ()
        self.asked: datetime | None = None  # the last `start` asked (the same object) ...
        self.answer: tuple[datetime, Interval | None] = (_NEVER, None)  # ... and its answer

    def stretch(self, at: datetime) -> Interval | None:
        """As `hours.stretch(self.hours, at, offset)`."""
        if self.always:
            return None
        if self.lo <= at < self.hi and self.day_lo <= at < self.day_hi:
            return self.value
        if not self.day_lo <= at < self.day_hi:  # another local day: its horizon's intervals
            day = (at.astimezone(UTC) + self.offset).date()
            self.intervals, self.ends = reference._merged(self.hours, day, self.offset)
            self.day_lo = datetime.combine(day, time(0), tzinfo=UTC) - self.offset
            self.day_hi = self.day_lo + _DAY
        ends = self.ends
        n = bisect_right(ends, at)
        self.lo = ends[n - 1] if n else self.day_lo
        self.hi = ends[n] if n < len(ends) else self.day_hi
        self.value = self.intervals[n] if n < len(self.intervals) else None
        return self.value

    def start(self, at: datetime) -> tuple[datetime, Interval | None]:
        """When a job due at `at` starts (the lane's next open time) and its stretch."""
        if at is self.asked:
            return self.answer
        window = self.stretch(at)
        answer = (at, None) if window is None else ((window[0] if window[0] > at else at), window)
        self.asked, self.answer = at, answer
        return answer

    def fit(self, at: datetime, duration: timedelta) -> datetime | None:
        """As `hours.fit(self.hours, at, duration, offset)`."""
        if self.always:
            return at
        if duration > timedelta(0):
            # the intervals before `at`'s stretch end at or before `at`: none can hold the job
            window = self.stretch(at)
            if window is not None:
                start = at if at > window[0] else window[0]  # max(begin, at), as `fit`
                if start + duration <= window[1]:
                    return start
        return reference.fit(self.hours, at, duration, self.offset)


def fit_avoiding(hours: Band, busy: Band, at: datetime, duration: timedelta) -> datetime | None:
    """As `hours.fit_avoiding(hours, busy, at, duration, offset)`."""
    start = hours.fit(at, duration)
    for _ in range(4 * HORIZON_DAYS):
        if start is None or busy.always:
            return start
        blocked = busy.stretch(start)
        if blocked is None or blocked[0] >= start + duration:
            return start
        start = hours.fit(blocked[1], duration)
    return None
