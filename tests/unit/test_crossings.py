"""Reconciliation of the two sides' crossing facts (lanes/crossings.py), event time only."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from lanes.crossings import (
    AlertKind,
    Corridor,
    Crossing,
    Side,
    Sighting,
    TruckIdentity,
    match_entry,
    reconcile,
)

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
CORRIDOR = Corridor(expected_transit=timedelta(minutes=30), margin=timedelta(minutes=30))
TRUCK = TruckIdentity("29H-123.45", "29R-012.34", ("CSQU3054383",))


def _crossing(cid: str, *, entered: TruckIdentity | None = None, after_min: int = 20) -> Crossing:
    return Crossing(
        crossing_id=cid,
        from_side=Side.VN,
        notice=Sighting(f"VN:n-{cid}", T0 - timedelta(minutes=30), TRUCK),
        exit=Sighting(f"VN:e-{cid}", T0, TRUCK),
        entry=(
            None
            if entered is None
            else Sighting(f"CN:i-{cid}", T0 + timedelta(minutes=after_min), entered)
        ),
    )


def test_in_time_is_no_alert() -> None:
    assert (
        reconcile([_crossing("a", entered=TRUCK)], now=T0 + timedelta(days=1), corridor=CORRIDOR)
        == []
    )


def test_overdue_only_after_expected_plus_margin() -> None:
    pending = [_crossing("a")]
    assert reconcile(pending, now=T0 + timedelta(minutes=60), corridor=CORRIDOR) == []
    [alert] = reconcile(pending, now=T0 + timedelta(minutes=61), corridor=CORRIDOR)
    assert alert.kind is AlertKind.OVERDUE
    assert alert.at == T0 + timedelta(minutes=60)
    assert dict(alert.evidence)["exit_message_id"] == "VN:e-a"
    assert "has not entered CN after 61 min" in alert.explanation
    assert f"left VN at {T0.isoformat()}" not in alert.explanation  # not ISO UTC for people
    assert dict(alert.evidence)["exit_at"] == T0.isoformat()  # the evidence keeps it


def test_an_overdue_truck_s_exit_is_told_on_the_reading_gate_s_clock() -> None:
    """Found by a tester: the other side's panel said 'left VN at 2025-06-02T01:00:00+00:00'
    to controllers at a gate 7 or 8 hours ahead of UTC."""
    pending = [_crossing("a")]
    now = T0 + timedelta(minutes=61)
    for hours, shown in ((7, "UTC+07:00"), (8, "UTC+08:00")):
        corridor = replace(CORRIDOR, utc_offset=timedelta(hours=hours))
        [alert] = reconcile(pending, now=now, corridor=corridor)
        local = (T0.astimezone(UTC) + timedelta(hours=hours)).strftime("%H:%M")
        assert alert.explanation.startswith(f"left VN at {local} ({shown}) and has not entered")
    # left at 23:40 at the gate, overdue after midnight: the exit's date is said
    exit_at = datetime(2026, 11, 24, 16, 40, tzinfo=UTC)  # 23:40 at UTC+07:00
    crossing = Crossing(
        crossing_id="b", from_side=Side.VN, notice=None, exit=Sighting("VN:e-b", exit_at, TRUCK)
    )
    vn = replace(CORRIDOR, utc_offset=timedelta(hours=7))
    [alert] = reconcile([crossing], now=exit_at + timedelta(minutes=61), corridor=vn)
    assert alert.explanation.startswith("left VN at 2026-11-24 23:40 (UTC+07:00) and")


def test_mismatch_names_each_field_with_evidence() -> None:
    other = TruckIdentity("29H12345", "29R99999", ("CSQU3054383", "MSCU1234566"))
    [alert] = reconcile([_crossing("a", entered=other)], now=T0, corridor=CORRIDOR)
    assert alert.kind is AlertKind.MISMATCH
    evidence = dict(alert.evidence)
    assert evidence["trailer_plate.announced"] == "29R01234"
    assert evidence["trailer_plate.seen"] == "29R99999"
    assert evidence["containers.seen"] == "CSQU3054383 MSCU1234566"
    assert "tractor_plate.seen" not in evidence  # separators do not make a difference
    assert evidence["entry_message_id"] == "CN:i-a"
    # the controller reads what differs without opening the evidence (it said "entered CN
    # with another trailer_plate, containers than announced" until 2026-12-06)
    assert alert.explanation == (
        "entered CN otherwise than announced: trailer_plate 29R99999 (announced 29R01234); "
        "containers CSQU3054383 MSCU1234566 (announced CSQU3054383)"
    )


def test_same_alerts_in_any_order() -> None:
    crossings = [_crossing(str(i), entered=TRUCK if i % 3 else None) for i in range(30)]
    now = T0 + timedelta(hours=5)
    first = reconcile(crossings, now=now, corridor=CORRIDOR)
    random.Random(4).shuffle(crossings)
    assert reconcile(crossings, now=now, corridor=CORRIDOR) == first
    assert len(first) == 10


def test_match_entry_prefers_the_tractor_then_a_container() -> None:
    a = _crossing("a")
    b = Crossing(
        "b", Side.VN, exit=Sighting("VN:e-b", T0, TruckIdentity("29H55555", None, ("MSCU1234566",)))
    )
    assert match_entry(TruckIdentity("29H12345"), [b, a]) == a
    assert match_entry(TruckIdentity("29H00000", None, ("MSCU1234566",)), [a, b]) == b
    assert match_entry(TruckIdentity("29H00000"), [a, b]) is None
    entered = _crossing("c", entered=TRUCK)
    assert match_entry(TRUCK, [entered]) is None
