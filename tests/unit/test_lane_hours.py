"""A lane's open hours as the control room shows them (`lanes.policy.hours.hours_now`):
within them until when, or closed by them until when, in the gate's local time. Found by a
tester: the board showed an inspection bay staffed 06:00-22:00 as "open" at 23:00 and said
nothing of its hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from lanes.model import ALWAYS, DailyHours
from lanes.policy.hours import hours_now

HANOI = timedelta(hours=7)
BAYS = DailyHours(((time(6), time(22)),))
NIGHT = DailyHours(((time(22), time(6)),))


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """`day` November 2026 at `hour:minute` Huu Nghi time, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - HANOI


def test_within_its_hours_until_they_end() -> None:
    now = hours_now(BAYS, local(23, 10), HANOI)
    assert (now.windows, now.in_hours, now.changes_at) == (("06:00-22:00",), True, local(23, 22))


def test_closed_by_its_hours_until_they_start_again() -> None:
    now = hours_now(BAYS, local(23, 23), HANOI)
    assert (now.in_hours, now.changes_at) == (False, local(24, 6))
    early = hours_now(BAYS, local(23, 5, 59), HANOI)
    assert (early.in_hours, early.changes_at) == (False, local(23, 6))


def test_hours_past_midnight_and_at_all_hours() -> None:
    night = hours_now(NIGHT, local(24, 1), HANOI)
    assert (night.windows, night.in_hours, night.changes_at) == (
        ("22:00-06:00",),
        True,
        local(24, 6),
    )
    always = hours_now(ALWAYS, local(23, 3), HANOI)
    assert (always.windows, always.in_hours, always.changes_at) == ((), True, None)
