"""The clock the cross-border alerts are reckoned at (lanes.crossings.crossings_clock): one
crossing dated wrong by the other side cannot move it, and a side whose clock is a few
minutes off moves the alerts by those minutes at most. Event time only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lanes.crossings import (
    AlertKind,
    Corridor,
    Crossing,
    Side,
    Sighting,
    TruckIdentity,
    crossings_clock,
    reconcile,
)

T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
AHEAD = AlertKind.DATED_AHEAD
CORRIDOR = Corridor(expected_transit=timedelta(minutes=20), margin=timedelta(minutes=40))
TRUCK = TruckIdentity("29H12345")


def _left(cid: str, side: Side, at: datetime) -> Crossing:
    return Crossing(cid, side, exit=Sighting(f"{side.value}:e-{cid}", at, TRUCK))


def test_one_crossing_dated_years_ahead_does_not_move_the_clock() -> None:
    """The tester's case: a CN exit dated 2030 among a morning's traffic. The clock stays
    the morning's, so the trucks that left VN in the last hour are not overdue."""
    traffic = [_left(f"VN-x{n}", Side.VN, T0 + timedelta(minutes=5 * n)) for n in range(16)]
    wrong = _left("CN-2030", Side.CN, datetime(2030, 12, 6, 9, 0, tzinfo=UTC))
    crossings = [*traffic, wrong]
    clock = crossings_clock(c.exit.at for c in crossings if c.exit is not None)
    assert clock == T0 + timedelta(minutes=75)
    alerts = {(a.kind, a.crossing_id) for a in reconcile(crossings, now=clock, corridor=CORRIDOR)}
    # left 75, 70, 65 minutes ago, truly late; and China's date, told to the controllers
    overdue = {(AlertKind.OVERDUE, f"VN-x{n}") for n in range(3)}
    assert alerts == {*overdue, (AHEAD, "CN-2030")}
    # and the latest alone, the rule until 2026-12-06, made every truck in transit overdue
    latest = max(c.exit.at for c in crossings if c.exit is not None)
    at_latest = reconcile(crossings, now=latest, corridor=CORRIDOR)
    assert {a.crossing_id for a in at_latest} == {c.crossing_id for c in traffic}


def test_the_clock_is_the_second_latest_time_and_none_without_crossings() -> None:
    assert crossings_clock([]) is None
    assert crossings_clock([T0]) == T0
    later = [T0 + timedelta(minutes=m) for m in (3, 1, 2)]
    assert crossings_clock(later) == T0 + timedelta(minutes=2)


def _first_overdue(skew: timedelta) -> datetime:
    """The true time at which the truck VN-lost (left VN at T0, never enters CN) is first
    overdue, a crossing leaving each side every minute by turns, CN's facts stamped by a
    clock `skew` off."""
    crossings = [_left("VN-lost", Side.VN, T0)]
    for n in range(1, 120):
        true_time = T0 + timedelta(minutes=n)
        side = Side.CN if n % 2 else Side.VN
        stamped = true_time + (skew if side is Side.CN else timedelta(0))
        crossings.append(_left(f"{side.value}-x{n}", side, stamped))
        clock = crossings_clock(c.exit.at for c in crossings if c.exit is not None)
        assert clock is not None
        alerts = reconcile(crossings, now=clock, corridor=CORRIDOR)
        if any(a.kind is AlertKind.OVERDUE and a.crossing_id == "VN-lost" for a in alerts):
            return true_time
    raise AssertionError("never overdue")


@pytest.mark.parametrize("minutes", [-7, -3, 3, 7])
def test_a_clock_a_few_minutes_off_moves_the_alert_by_those_minutes_at_most(minutes: int) -> None:
    skew = timedelta(minutes=minutes)
    on_time = _first_overdue(timedelta(0))
    assert on_time == T0 + timedelta(minutes=62)  # the 09:00 deadline, passed by a second fact
    # by the skew at most, to the next fact (a minute here)
    assert abs(_first_overdue(skew) - on_time) <= abs(skew) + timedelta(minutes=1)


def test_the_first_truck_after_a_closure_is_told_until_a_second_comes() -> None:
    """A date more than a day after the clock is told (dated_ahead); after a closure of two
    days the first truck is, until a second one reaches its time: the clock then follows."""
    before = [_left(f"VN-x{n}", Side.VN, T0 + timedelta(minutes=n)) for n in range(3)]
    after = T0 + timedelta(days=2)
    first = [*before, _left("CN-y1", Side.CN, after)]
    clock = crossings_clock(c.exit.at for c in first if c.exit is not None)
    assert clock == T0 + timedelta(minutes=2)
    kinds = {(a.kind, a.crossing_id) for a in reconcile(first, now=clock, corridor=CORRIDOR)}
    assert kinds == {(AHEAD, "CN-y1")}
    second = [*first, _left("VN-x9", Side.VN, after + timedelta(minutes=1))]
    clock = crossings_clock(c.exit.at for c in second if c.exit is not None)
    assert clock == after
    kinds = {(a.kind, a.crossing_id) for a in reconcile(second, now=clock, corridor=CORRIDOR)}
    assert kinds == {(AlertKind.OVERDUE, f"VN-x{n}") for n in range(3)}
