"""The cached open hours (`lanes.policy.bands`) answer as `lanes.policy.hours`, object for
object, whatever zone the times are given in (the band compares in one zone of its own)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

import pytest

from lanes.model import DailyHours
from lanes.policy import hours
from lanes.policy.bands import Band, fit_avoiding

OFFSET = timedelta(hours=7)
ZONES = [timezone(OFFSET), UTC, timezone(timedelta(hours=-5))]
HOURS = [
    DailyHours(((time(6), time(22)),)),
    DailyHours(((time(22), time(6)),)),
    DailyHours(((time(7), time(11)), (time(13), time(13, 20)))),
]
CHARGING = DailyHours(((time(0), time(1)), (time(12), time(13))))


def _times() -> list[datetime]:
    """Every 7 minutes over two local days, each instant in turn in each zone (so a band
    is asked in zones other than the one it keeps)."""
    first = datetime(2025, 6, 1, 17, 0, tzinfo=UTC)
    return [
        (first + n * timedelta(minutes=7)).astimezone(ZONES[n % len(ZONES)])
        for n in range(2 * 24 * 60 // 7)
    ]


@pytest.mark.parametrize("daily", HOURS)
def test_band_answers_as_the_hours_in_any_zone(daily: DailyHours) -> None:
    band, busy = Band(daily, OFFSET), Band(CHARGING, OFFSET)
    for at in _times():
        assert repr(band.stretch(at)) == repr(hours.stretch(daily, at, OFFSET))
        for length in (timedelta(minutes=3), timedelta(minutes=25), timedelta(hours=5)):
            assert repr(band.fit(at, length)) == repr(hours.fit(daily, at, length, OFFSET))
            assert repr(fit_avoiding(band, busy, at, length)) == repr(
                hours.fit_avoiding(daily, CHARGING, at, length, OFFSET)
            )
        start, window, _, _, later = band.start(at)
        expected = hours.stretch(daily, at, OFFSET)
        assert window == expected
        assert repr(start) == repr(at if expected is None else max(at, expected[0]))  # plan._start
        assert later == (expected is not None and expected[0] > at)
