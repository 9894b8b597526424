"""Slot rules, pure (lanes/bookings.py): boundaries in local time, capacity with overrides
and the perishable reserve, each reason a window cannot be booked, arrivals."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from lanes.bookings import (
    BookingRules,
    CapacityOverride,
    arrival_status,
    capacity,
    check_window,
    is_lost,
    slot_of,
    slots_between,
)
from lanes.model import BookingStatus, DailyHours, Direction

OFFSET = timedelta(hours=7)
RULES = BookingRules(
    overrides=(CapacityOverride(DailyHours(((time(6), time(7)),)), export=40, import_=None),)
)
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 08:00 local


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - OFFSET


def test_slots_are_counted_from_local_midnight() -> None:
    assert slot_of(local(24, 10, 59), RULES, OFFSET) == (local(24, 10), local(24, 11))
    assert slot_of(local(24, 0), RULES, OFFSET) == (local(24, 0), local(24, 1))
    half = BookingRules(slot_length=timedelta(minutes=30))
    assert slot_of(local(24, 10, 45), half, OFFSET) == (local(24, 10, 30), local(24, 11))


def test_capacity_per_direction_with_overrides_and_the_reserve() -> None:
    assert capacity(local(24, 10), Direction.EXPORT, RULES, OFFSET).total == 60
    assert capacity(local(24, 10), Direction.EXPORT, RULES, OFFSET).reserved == 18
    assert capacity(local(24, 10), Direction.IMPORT, RULES, OFFSET).reserved == 12
    early = capacity(local(24, 6), Direction.EXPORT, RULES, OFFSET)
    assert (early.total, early.reserved, early.general) == (40, 12, 28)
    assert capacity(local(24, 6), Direction.IMPORT, RULES, OFFSET).total == 40  # not overridden
    none_kept = capacity(local(24, 10), Direction.EXPORT, BookingRules(perishable_share=0), OFFSET)
    assert (none_kept.total, none_kept.reserved) == (60, 0)


@pytest.mark.parametrize(
    ("at", "words"),
    [
        (local(24, 10, 30), "10:30:00 local is not a slot boundary"),
        (local(24, 10, 30), "starts at 2026-11-24 10:00 local (UTC+07:00))"),
        (local(24, 22), "outside the bookable hours (06:00-22:00 local)"),
        (local(24, 5), "outside the bookable hours"),
        (local(30, 10), "beyond the booking horizon of 7 days"),
        (local(30, 10), "(book up to 2026-11-30 08:00 local (UTC+07:00))"),
        (local(23, 8, 0), "the slot starts in the past"),
        (local(23, 7), "the slot starts in the past (2026-11-23 07:00 local (UTC+07:00))"),
    ],
)
def test_each_reason_a_window_is_refused(at: datetime, words: str) -> None:
    [problem] = check_window(at, rules=RULES, utc_offset=OFFSET, now=NOW)
    assert problem.field == "slot_start" and words in problem.reason


@pytest.mark.parametrize(
    ("fraction", "said"),
    [(timedelta(milliseconds=500), "10:00:00.5"), (timedelta(microseconds=7), "10:00:00.000007")],
)
def test_a_start_off_the_boundary_by_a_fraction_of_a_second_says_the_fraction(
    fraction: timedelta, said: str
) -> None:
    # "slot_start": "...T03:00:00.5Z" was told "10:00:00 local is not a slot boundary ...
    # (the slot holding it starts at ... 10:00 local)": the time it named looked aligned
    [problem] = check_window(local(24, 10) + fraction, rules=RULES, utc_offset=OFFSET, now=NOW)
    assert problem.reason.startswith(f"{said} local is not a slot boundary:")
    assert "no fraction of a second" in problem.reason


def test_the_cut_off() -> None:
    now = local(24, 9, 31)
    [problem] = check_window(local(24, 10), rules=RULES, utc_offset=OFFSET, now=now)
    assert "past the cut-off: bookings close 30 min before" in problem.reason
    # a firm's person reads the gate's clock, not ISO UTC (found by a stranger's try)
    assert "(closed at 2026-11-24 09:30 local (UTC+07:00))" in problem.reason
    assert check_window(local(24, 10), rules=RULES, utc_offset=OFFSET, now=local(24, 9, 29)) == []


def test_a_bookable_window_has_no_problem() -> None:
    assert check_window(local(24, 21), rules=RULES, utc_offset=OFFSET, now=NOW) == []
    assert check_window(local(30, 7), rules=RULES, utc_offset=OFFSET, now=NOW) == []
    naive = check_window(datetime(2026, 11, 24, 10), rules=RULES, utc_offset=OFFSET, now=NOW)
    assert "needs a UTC offset" in naive[0].reason


def test_slots_between_keeps_bookable_hours() -> None:
    slots = slots_between(local(24, 20, 30), local(25, 8), rules=RULES, utc_offset=OFFSET)
    assert [s for s, _ in slots] == [local(24, 21), local(25, 6), local(25, 7)]


def test_arrivals_against_a_booking() -> None:
    start, end = local(24, 10), local(24, 11)
    assert arrival_status(start, end, local(24, 9), rules=RULES) is BookingStatus.EARLY
    assert arrival_status(start, end, local(24, 10, 30), rules=RULES) is BookingStatus.ON_TIME
    assert arrival_status(start, end, local(24, 11, 59), rules=RULES) is BookingStatus.LATE
    assert arrival_status(start, end, local(24, 12), rules=RULES) is BookingStatus.WALK_IN
    assert arrival_status(None, None, local(24, 10), rules=RULES) is BookingStatus.WALK_IN
    assert not is_lost(end, local(24, 11, 59), rules=RULES)
    assert is_lost(end, local(24, 12), rules=RULES)
