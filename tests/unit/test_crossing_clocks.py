"""The two sides' clocks (lanes.crossing_clocks): China's clock 3 hours ahead (or 2 hours
behind) on every fact it sends. Reckoned at the second latest crossing time of both sides'
facts as stamped, the rule until 2026-12-06, it timed Vietnam's questions: 3 h ahead, every
Vietnamese truck in transit was 'overdue' (China's facts carried the clock 3 h on); 2 h
behind, every Chinese truck in transit was 'overdue' as soon as it left (its exit stamped
2 h early against Vietnam's clock). Now the skew is estimated from the trucks that crossed
both ways, told as an alert of its own, and each truck is judged on the clock of the side
it left. Event time only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lanes.crossing_clocks import AlertsClock, alerts, alerts_clock, estimate_skew
from lanes.crossings import (
    AlertKind,
    Corridor,
    Crossing,
    CrossingAlert,
    Side,
    Sighting,
    TruckIdentity,
    crossings_clock,
    reconcile,
)

T0 = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=120)  # the true time the last facts are of
CORRIDOR = Corridor(
    expected_transit=timedelta(minutes=20),
    margin=timedelta(minutes=40),
    utc_offset=timedelta(hours=7),
)
TRUCK = TruckIdentity("29H12345")
# truly late (left 70 min before NOW, never entered) and truly on time (left 20 min before)
LATE = {"VN-late", "CN-late"}


def _day(cn_skew: timedelta) -> list[Crossing]:
    """Two hours of traffic, a truck leaving each side every 4 minutes and entering the
    other 20 minutes later; CN stamps its facts (its exits, its entries of VN's trucks)
    `cn_skew` off. One truck each way lost 70 min ago, one left 20 min ago."""

    def stamp(side: Side, at: datetime) -> datetime:
        return at + (cn_skew if side is Side.CN else timedelta(0))

    def crossing(cid: str, side: Side, left: datetime, enters: bool = True) -> Crossing:
        arrives = left + timedelta(minutes=20)
        entry = None
        if enters and arrives <= NOW:
            entry = Sighting(f"{cid}:entry", stamp(side.other, arrives), TRUCK)
        return Crossing(
            cid, side, exit=Sighting(f"{cid}:exit", stamp(side, left), TRUCK), entry=entry
        )

    found = []
    for n in range(30):
        found.append(crossing(f"VN-{n}", Side.VN, T0 + timedelta(minutes=4 * n)))
        found.append(crossing(f"CN-{n}", Side.CN, T0 + timedelta(minutes=4 * n + 2)))
    for side in Side:
        found.append(crossing(f"{side.value}-late", side, NOW - timedelta(minutes=70), False))
        found.append(crossing(f"{side.value}-fresh", side, NOW - timedelta(minutes=20), False))
    return found


def _overdue(found: list[CrossingAlert]) -> set[str]:
    return {a.crossing_id for a in found if a.kind is AlertKind.OVERDUE}


def _as_stamped(crossings: list[Crossing]) -> list[CrossingAlert]:
    """The rule until 2026-12-06: the second latest crossing time of the facts as stamped."""
    latest = [max(s.at for s in (c.exit, c.entry) if s is not None) for c in crossings]
    clock = crossings_clock(latest)
    assert clock is not None
    return reconcile(crossings, now=clock, corridor=CORRIDOR)


@pytest.mark.parametrize(
    ("skew", "wrong"),
    [
        # 3 h ahead: VN's trucks of the last 60 min 'overdue', though due at CN still
        (timedelta(hours=3), {"VN-fresh", "VN-27", "VN-28", "VN-29"}),
        # 2 h behind: CN's trucks in transit 'overdue' as soon as they left
        (timedelta(hours=-2), {"CN-fresh", "CN-29"}),
    ],
)
def test_a_side_hours_off_no_longer_times_the_other_sides_trucks(
    skew: timedelta, wrong: set[str]
) -> None:
    crossings = _day(skew)
    assert _overdue(_as_stamped(crossings)) >= LATE | wrong  # what it was

    found = estimate_skew(crossings)
    assert found is not None and found.offset == skew
    clock = alerts_clock(crossings, found)
    assert clock is not None
    # on VN's clock, the time of the last facts, whatever CN's clock says
    assert NOW - timedelta(minutes=4) <= clock.at <= NOW
    assert clock.on(Side.CN) == clock.at + skew
    raised = alerts(crossings, clock=clock, corridor=CORRIDOR)
    assert _overdue(raised) == LATE
    [told] = [a for a in raised if a.kind is AlertKind.CLOCK_SKEW]
    way = "ahead of" if skew > timedelta(0) else "behind"
    hours = abs(skew) // timedelta(hours=1)
    assert told.explanation.startswith(f"CN's clock appears {hours} h 00 min {way} VN's: ")
    assert "20 min expected" not in told.explanation  # the medians, both ways, are named
    assert dict(told.evidence)["offset_minutes"] == str(int(skew.total_seconds() // 60))
    # each overdue alert says the clock it was reckoned at: the side the truck left
    cn_late = next(a for a in raised if a.crossing_id == "CN-late")
    assert "on CN's clock, the second latest crossing time with VN's times moved" in (
        cn_late.explanation
    )
    vn_late = next(a for a in raised if a.crossing_id == "VN-late")
    assert "on VN's clock" in vn_late.explanation and "CN's clock appears" in vn_late.explanation


def test_clocks_that_agree_raise_the_same_alerts_as_before() -> None:
    """Within SKEW_AFTER (a few minutes off, the roads' difference) nothing is moved."""
    for minutes in (0, 7, -7):
        crossings = _day(timedelta(minutes=minutes))
        assert estimate_skew(crossings) is None
        clock = alerts_clock(crossings)
        assert clock is not None
        raised = alerts(crossings, clock=clock, corridor=CORRIDOR)
        assert raised == _as_stamped(crossings)
        assert not any(a.kind is AlertKind.CLOCK_SKEW for a in raised)
        [late] = [a for a in raised if a.crossing_id == "VN-late"]
        assert late.explanation.endswith(", the second latest crossing time of either side")


def test_one_way_traffic_or_too_few_trucks_tell_no_skew() -> None:
    """One direction alone cannot tell a clock from a slow road; two trucks each way are
    not enough to judge by."""
    crossings = _day(timedelta(hours=3))
    from_vn = [c for c in crossings if c.from_side is Side.VN]
    assert estimate_skew(from_vn) is None
    assert estimate_skew(from_vn, expected_transit=CORRIDOR.expected_transit) is None
    entered = [c for c in crossings if c.entry is not None]
    few = [c for c in entered if c.from_side is Side.VN][:2] + [
        c for c in entered if c.from_side is Side.CN
    ]
    assert estimate_skew(few) is None


def test_the_clock_is_put_right_once_china_is() -> None:
    """China sets its clock right: 5 trucks each way later (the median of the latest
    SKEW_WINDOW, 9), the skew and its alert are gone; 4 are not enough."""
    wrong = _day(timedelta(hours=3))
    later = [
        Crossing(
            f"{side.value}-r{n}",
            side,
            exit=Sighting("x", NOW + timedelta(minutes=n), TRUCK),
            entry=Sighting("e", NOW + timedelta(minutes=n + 20), TRUCK),
        )
        for n in range(5)
        for side in Side
    ]
    assert estimate_skew([*wrong, *later]) is None
    four = [c for c in later if not c.crossing_id.endswith("-r4")]
    assert estimate_skew([*wrong, *four]) is not None
    assert AlertsClock(NOW).on(Side.CN) == NOW


@pytest.mark.parametrize(
    ("skew", "one_way"),
    # the trucks that entered before they left: China's leaving it 3 h ahead, Vietnam's
    # leaving it 2 h behind
    [(timedelta(hours=3), Side.CN), (timedelta(hours=-2), Side.VN)],
)
def test_trucks_one_way_that_enter_before_they_leave_tell_the_skew(
    skew: timedelta, one_way: Side
) -> None:
    """No road runs backwards: a median transit below -SKEW_AFTER one way is the skew,
    taken with the corridor's expected transit (the trucks here take just that), and the
    trucks of that side are judged on its own clock."""
    crossings = [c for c in _day(skew) if c.from_side is one_way]
    assert estimate_skew(crossings) is None  # not without the expected transit
    found = estimate_skew(crossings, expected_transit=CORRIDOR.expected_transit)
    assert found is not None and found.offset == skew
    clock = alerts_clock(crossings, found)
    assert clock is not None
    raised = alerts(crossings, clock=clock, corridor=CORRIDOR)
    assert _overdue(raised) == {f"{one_way.value}-late"}
    [told] = [a for a in raised if a.kind is AlertKind.CLOCK_SKEW]
    assert "no road runs backwards (taken with the 20 min expected for it)" in told.explanation
    evidence = dict(told.evidence)
    assert evidence[f"pairs_from_{one_way.value.lower()}"] == "9"
    assert int(evidence[f"median_transit_from_{one_way.value.lower()}_minutes"]) < -30
