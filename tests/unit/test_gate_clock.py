"""`lanes.values.gate_clock`: the one way a time is told on the gate's clock, which the
alerts (`wording.gate_time`), the crossings' explanations and the booking refusals
(`bookings.local_when`) each used to write themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from lanes.values import gate_clock

HN = timedelta(hours=7)
NEPAL = timedelta(hours=5, minutes=45)
NEWFOUNDLAND = timedelta(hours=-3, minutes=-30)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "offset", "day_of", "shown"),
    [
        # the reference's local day: the time alone
        (utc(24, 3, 14), HN, utc(24, 1), "10:14"),
        # 16:59 UTC is 23:59 at +07:00, 17:00 UTC already the next local day
        (utc(24, 16, 59), HN, utc(24, 1), "23:59"),
        (utc(24, 17, 0), HN, utc(24, 1), "2026-11-25 00:00"),
        # the same UTC day is not the same local day (and the other way round)
        (utc(24, 18), HN, utc(24, 16), "2026-11-25 01:00"),
        (utc(24, 18), HN, utc(25, 16, 59), "01:00"),
        # a negative offset, with half hours: 02:00 UTC is 22:30 the day before
        (utc(24, 2), NEWFOUNDLAND, utc(24, 2), "22:30"),
        (utc(24, 2), NEWFOUNDLAND, utc(24, 3, 30), "2026-11-23 22:30"),
        # +05:45
        (utc(24, 10, 20), NEPAL, utc(24, 0), "16:05"),
        (utc(24, 18, 15), NEPAL, utc(24, 0), "2026-11-25 00:00"),
    ],
)
def test_the_date_shows_only_off_the_reference_day(
    at: datetime, offset: timedelta, day_of: datetime, shown: str
) -> None:
    assert gate_clock(at, offset, day_of=day_of) == shown


def test_without_a_reference_day_the_date_always_shows() -> None:
    assert gate_clock(utc(24, 3, 14), HN) == "2026-11-24 10:14"
    assert gate_clock(utc(24, 1), NEWFOUNDLAND) == "2026-11-23 21:30"


@pytest.mark.parametrize(
    ("offset", "named"),
    [(HN, "UTC+07:00"), (NEPAL, "UTC+05:45"), (NEWFOUNDLAND, "UTC-03:30"), (timedelta(0), "UTC")],
)
def test_the_zone_named_or_said_local(offset: timedelta, named: str) -> None:
    at = utc(24, 12)
    hhmm = f"{at + offset:%H:%M}"
    assert gate_clock(at, offset, day_of=at, zone="named") == f"{hhmm} ({named})"
    assert gate_clock(at, offset, zone="local") == f"{at + offset:%Y-%m-%d} {hhmm} local ({named})"


def test_the_time_given_in_any_zone_is_the_same_instant() -> None:
    at = utc(24, 17, 30)
    elsewhere = at.astimezone(timezone(timedelta(hours=-8)))  # 09:30 on the 24th in -08:00
    assert gate_clock(elsewhere, HN, day_of=utc(24, 1)) == "2026-11-25 00:30"
    assert gate_clock(elsewhere, HN, day_of=elsewhere, zone="named") == "00:30 (UTC+07:00)"
