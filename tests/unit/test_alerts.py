"""The risk-alert rules (lanes/alerts, issue 22): each rule fires on its anomaly, stays quiet
on ordinary traffic, explains itself with its evidence, and gives the same alerts whatever
the input order (a replay raises the same alerts)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest

from lanes.alerts import (
    AlertRules,
    BookingChange,
    BookingKind,
    ManifestVersion,
    Observations,
    Severity,
    Sighting,
    WeighIn,
    evaluate,
)
from lanes.model import CameraRole, CustomsStatus, Direction, Manifest
from tests.unit.factories import at

GATE = "huu-nghi"
PLATE = "29H12345"
ROLES = {
    "hn-exp-approach-1": (CameraRole.APPROACH, Direction.EXPORT),
    "hn-exp-gate-1": (CameraRole.GATE_IN, Direction.EXPORT),
    "hn-exp-exit-1": (CameraRole.EXIT, Direction.EXPORT),
    "hn-imp-approach-1": (CameraRole.APPROACH, Direction.IMPORT),
    "hn-imp-gate-1": (CameraRole.GATE_IN, Direction.IMPORT),
    "hn-imp-exit-1": (CameraRole.EXIT, Direction.IMPORT),
}


def seen(
    event_id: str,
    minutes: float,
    camera_id: str = "hn-exp-gate-1",
    plate: str = PLATE,
    **extra: tuple[str, ...],
) -> Sighting:
    role, direction = ROLES[camera_id]
    return Sighting(event_id, GATE, camera_id, role, direction, at(minutes), plate, **extra)


def crossing(prefix: str, minutes: float, plate: str = PLATE, exit_after: float | None = 30):
    """An export truck: approach, gate-in (with `MSCU...` containers), exit."""
    out = [
        seen(f"{prefix}-a", minutes, "hn-exp-approach-1", plate),
        seen(f"{prefix}-g", minutes + 1, "hn-exp-gate-1", plate, containers=("MSCU1234565",)),
    ]
    if exit_after is not None:
        out.append(seen(f"{prefix}-x", minutes + 1 + exit_after, "hn-exp-exit-1", plate))
    return out


def manifest(**changes: object) -> Manifest:
    base = Manifest(
        manifest_id="MF-1",
        firm_id="firm-01",
        direction=Direction.EXPORT,
        tractor_plate=PLATE,
        trailer_plate="29R00001",
        containers=("MSCU1234565",),
        cargo_description="fresh durian",
        gross_weight_kg=30_000.0,
        window_start=at(-60),
        window_end=at(180),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


V1 = ManifestVersion(manifest(), 1, at(-600))


def rules_of(observations: Observations, minutes: float = 600) -> list[tuple[str, str]]:
    return [(a.rule, a.subject) for a in evaluate(observations, now=at(minutes))]


def test_an_ordinary_crossing_raises_nothing() -> None:
    obs = Observations(sightings=tuple(crossing("t1", 0)), manifests=(V1,))
    assert rules_of(obs) == []


def test_a_plate_in_twice_without_leaving_is_a_clone() -> None:
    obs = Observations(sightings=(*crossing("t1", 0, exit_after=None), *crossing("t2", 20)))
    (alert,) = [a for a in evaluate(obs, now=at(60)) if a.rule == "cloned_plate"]
    assert alert.subject == f"plate:{PLATE}"
    assert alert.severity is Severity.HIGH and alert.hold
    assert alert.raised_at == at(20)
    assert alert.evidence == ("t1-a", "t1-g", "t2-a", "t2-g")
    assert "twice" in alert.explanation and "no exit read between" in alert.explanation


def test_the_other_direction_sooner_than_the_road_allows_is_a_clone() -> None:
    back = [seen("b-a", 50, "hn-imp-approach-1"), seen("b-g", 51, "hn-imp-gate-1")]
    obs = Observations(sightings=(*crossing("t1", 0), *back))
    assert ("cloned_plate", f"plate:{PLATE}") in rules_of(obs, 100)
    later = [replace(s, at=s.at + timedelta(hours=3)) for s in back]
    assert rules_of(Observations(sightings=(*crossing("t1", 0), *later)), 300) == []


def test_a_single_stray_read_is_not_a_truck() -> None:
    obs = Observations(sightings=(*crossing("t1", 0), seen("odd", 20)))
    assert rules_of(obs) == []


def test_a_truck_not_out_in_time_is_lost_once_the_time_is_past() -> None:
    other = crossing("t0", -200, plate="29H99999")  # the gate's exits are read
    obs = Observations(sightings=(*other, *crossing("t1", 0, exit_after=None)))
    assert evaluate(obs, now=at(90)) == ()
    (alert,) = evaluate(obs, now=at(91))
    assert (alert.rule, alert.raised_at) == ("lost_truck", at(91))
    assert "no exit camera has read it in 90 min" in alert.explanation


def test_no_truck_is_lost_at_a_gate_whose_exits_are_not_read() -> None:
    obs = Observations(sightings=tuple(crossing("t1", 0, exit_after=None)))
    assert evaluate(obs, now=at(600)) == ()


def test_an_exit_read_under_another_candidate_still_counts() -> None:
    sightings = crossing("t1", 0, exit_after=None)
    sightings.append(seen("x", 40, "hn-exp-exit-1", "29H12346", alternatives=(PLATE,)))
    assert rules_of(Observations(sightings=tuple(sightings))) == []


def test_an_exit_read_misread_beyond_the_matcher_still_counts() -> None:
    # holdout OCR noise (bench/alerts_noise.py): the truck's one exit read came out with two
    # characters transposed, its rows swapped, its top row lost, or one character wrong
    # and no candidate, so the matcher attributed it to nothing; each was a lost truck
    for misread in ("29H12354", "1234529H", "12345", "29H17345"):
        sightings = crossing("t1", 0, exit_after=None)
        sightings.append(seen("x", 40, "hn-exp-exit-1", misread))
        assert rules_of(Observations(sightings=tuple(sightings))) == [], misread


def test_an_exit_read_of_a_row_alone_counts_though_an_inbound_read_lost_it_too() -> None:
    # a truck without a manifest: one inbound read and the exit read lost the top row alike;
    # the stray inbound read is no other truck, so the exit read is still this truck's
    sightings = crossing("t1", 0, exit_after=None)
    sightings.append(seen("t1-a2", 0.5, "hn-exp-approach-1", "12345"))
    sightings.append(seen("x", 40, "hn-exp-exit-1", "12345"))
    assert rules_of(Observations(sightings=tuple(sightings))) == []


def test_another_trucks_exit_read_near_the_plate_does_not_stand_for_it() -> None:
    # 29H12346 came in and was read leaving, exactly: that exit is its own, not the exit of
    # 29H12345, one character away, which never left
    sightings = [
        *crossing("t1", 0, exit_after=None),
        *crossing("t2", 5, plate="29H12346"),
    ]
    assert rules_of(Observations(sightings=tuple(sightings))) == [("lost_truck", f"plate:{PLATE}")]


def test_an_exit_read_far_from_the_plate_is_not_its_exit() -> None:
    sightings = crossing("t1", 0, exit_after=None)
    sightings.append(seen("x", 40, "hn-exp-exit-1", "29H69375"))  # three characters wrong
    assert rules_of(Observations(sightings=tuple(sightings))) == [("lost_truck", f"plate:{PLATE}")]


def test_an_exit_read_two_mistakes_off_counts_when_no_other_truck_is_as_near() -> None:
    # holdout OCR noise (bench/alerts_noise.py): a truck's one exit read with two characters
    # wrong, two lost or two extra, priced as the matcher prices a read (two edits at most,
    # a lost character of a read that fits no format cheaper); another truck open then,
    # far from it, does not stand in the way
    other = crossing("t0", 5, plate="15C67890")
    for misread in ("29H19375", "29H245", "29H1234567"):
        sightings = [*crossing("t1", 0, exit_after=None), *other]
        sightings.append(seen("x", 40, "hn-exp-exit-1", misread))
        assert rules_of(Observations(sightings=tuple(sightings))) == [], misread


def test_a_misread_exit_as_near_another_truck_open_then_stands_for_neither() -> None:
    # 29H12395 is one character from 29H12345, which never left, and one from 29H12375,
    # whose own exit read is exact: it may be either, so it hides no lost truck
    sightings = [
        *crossing("t1", 0, exit_after=None),
        *crossing("t2", 5, plate="29H12375"),
        seen("x", 40, "hn-exp-exit-1", "29H12395"),
    ]
    assert rules_of(Observations(sightings=tuple(sightings))) == [("lost_truck", f"plate:{PLATE}")]


def test_another_trucks_misread_exit_nearer_to_it_does_not_stand_for_the_lost_one() -> None:
    # 29H12375 left, read 29H12376 (a look-alike); 29H12345, two mistakes from that read,
    # never left: the read is its own truck's, far nearer to it (until 2026-12-06 it stood
    # for the lost truck too, which was not called lost)
    sightings = [
        *crossing("t1", 0, exit_after=None),
        *crossing("t2", 5, plate="29H12375", exit_after=None),
        seen("x", 40, "hn-exp-exit-1", "29H12376"),
    ]
    assert rules_of(Observations(sightings=tuple(sightings))) == [("lost_truck", f"plate:{PLATE}")]


def test_a_truck_that_entered_after_the_exit_read_is_no_rival_for_it() -> None:
    # the exit read came before 29H12375 entered: it can only be 29H12345's
    sightings = [
        *crossing("t1", 0, exit_after=None),
        seen("x", 40, "hn-exp-exit-1", "29H12395"),
        *crossing("t2", 50, plate="29H12375"),
    ]
    assert rules_of(Observations(sightings=tuple(sightings))) == []


def test_a_trucks_reads_misread_alike_are_not_a_lost_truck_of_their_own() -> None:
    # bench/alerts_noise.py's transposition model: two of a truck's reads, taken by the same
    # cameras within seconds of its exact reads, spell 29H12354; they make a pass of their
    # own, which no exit read shows (the exit read is the plate's). Until 2026-12-06 that
    # pass was a lost truck, the main source of false lost trucks under OCR noise.
    misread = "29H12354"
    sightings = [
        *crossing("t1", 0),
        seen("a2", 0.05, "hn-exp-approach-1", misread),
        seen("g2", 1.05, "hn-exp-gate-1", misread),
    ]
    assert rules_of(Observations(sightings=tuple(sightings))) == []


@pytest.mark.parametrize(
    ("plate", "after_s"),
    [
        ("29H12354", 60),  # one mistake apart, each camera read them a minute apart
        ("29H12377", 2),  # read 2 s apart, but two mistakes apart: two trucks
    ],
)
def test_a_truck_of_a_near_plate_read_after_another_is_still_lost(plate: str, after_s: int) -> None:
    # two trucks nose to tail: the one not read leaving is lost
    sightings = [*crossing("t1", 0), *crossing("t2", after_s / 60, plate=plate, exit_after=None)]
    assert rules_of(Observations(sightings=tuple(sightings))) == [("lost_truck", f"plate:{plate}")]


def test_two_passes_of_a_row_read_alone_are_no_clone() -> None:
    # bench/alerts_noise.py's row_lost model: the top row alone (12C) is what many trucks'
    # plates give; two passes under it, with no exit read of it between, are two trucks
    other = crossing("t0", -200, plate="29H99999")  # the gate's exits are read
    row = [*crossing("t1", 0, "12C", exit_after=None), *crossing("t2", 20, "12C", exit_after=None)]
    assert "cloned_plate" not in {r for r, _ in rules_of(Observations((*other, *row)), 60)}
    # a plate that fits no format but that a manifest declares names one truck
    foreign = [replace(s, plate="LA1234") for s in row]
    declared = ManifestVersion(manifest(tractor_plate="LA1234"), 1, at(-600))
    obs = Observations((*other, *foreign), manifests=(declared,))
    assert ("cloned_plate", "plate:LA1234") in rules_of(obs, 60)


def test_a_container_not_declared_is_a_swap() -> None:
    sightings = crossing("t1", 0)
    sightings[1] = replace(sightings[1], containers=("TGHU7654321",))
    (alert,) = evaluate(Observations(tuple(sightings), (V1,)), now=at(600))
    assert (alert.rule, alert.subject, alert.evidence) == ("swap", "manifest:MF-1", ("t1-g",))
    assert "TGHU7654321" in alert.explanation and "MSCU1234565" in alert.explanation


def test_another_trailer_is_a_swap() -> None:
    sightings = crossing("t1", 0)
    sightings[1] = replace(sightings[1], trailer_plates=("29R99999",))
    assert rules_of(Observations(tuple(sightings), (V1,))) == [("swap", "manifest:MF-1")]
    sightings[1] = replace(sightings[1], trailer_plates=("29R00001",))
    assert rules_of(Observations(tuple(sightings), (V1,))) == []


def test_declared_containers_none_read() -> None:
    sightings = crossing("t1", 0)
    sightings[1] = replace(sightings[1], containers=())
    other = crossing("t0", -30, plate="29H99999")  # the portal reads containers
    (alert,) = evaluate(Observations((*other, *sightings), (V1,)), now=at(600))
    assert (alert.rule, alert.severity, alert.hold) == ("containers_unread", Severity.MEDIUM, False)


def test_no_container_is_missed_at_a_gate_whose_portals_read_none() -> None:
    sightings = crossing("t1", 0)
    sightings[1] = replace(sightings[1], containers=())
    assert evaluate(Observations(tuple(sightings), (V1,)), now=at(600)) == ()


def test_plates_or_containers_amended_just_before_arrival() -> None:
    v2 = ManifestVersion(
        manifest(containers=("MSCU1234565",), trailer_plate="29R00002"), 2, at(-20)
    )
    sightings = tuple(crossing("t1", 0))
    (alert,) = evaluate(Observations(sightings, (V1, v2)), now=at(600))
    assert alert.rule == "late_amendment"
    assert alert.evidence == ("MF-1@v1", "MF-1@v2", "t1-a")
    assert "trailer_plate" in alert.explanation and "20 min before" in alert.explanation
    early = replace(v2, received_at=at(-61))
    assert rules_of(Observations(sightings, (V1, early))) == []
    weight_only = replace(v2, manifest=manifest(gross_weight_kg=31_000.0))
    assert rules_of(Observations(sightings, (V1, weight_only))) == []


def test_a_manifest_turned_back_to_customs_pending_after_its_truck_arrived() -> None:
    """Cleared at arrival, pending in a version received after: the truck's decision no
    longer stands (an alert that holds it). Pending already at arrival (the matcher sent
    it to review), or pending and cleared again since, raises nothing."""
    sightings = tuple(crossing("t1", 0, exit_after=None))
    pending = ManifestVersion(manifest(customs_status=CustomsStatus.PENDING), 2, at(12))
    (alert,) = evaluate(Observations(sightings, (V1, pending)), now=at(20))
    assert (alert.rule, alert.subject, alert.hold) == ("customs_pending", "manifest:MF-1", True)
    assert (alert.raised_at, alert.evidence) == (at(12), ("MF-1@v2", "t1-a"))
    assert alert.explanation == (
        "manifest MF-1 v2 turned customs status back to pending at 10:12 (UTC), after "
        "29H12345 arrived at huu-nghi at 10:00 with it cleared: its decision no longer stands"
    )
    assert rules_of(Observations(sightings, (V1, pending)), minutes=11) == []  # not yet
    at_arrival = replace(pending, received_at=at(-5))
    assert rules_of(Observations(sightings, (V1, at_arrival)), minutes=20) == []
    cleared = ManifestVersion(manifest(), 3, at(15))
    assert rules_of(Observations(sightings, (V1, pending, cleared)), minutes=20) == []
    inspect = ManifestVersion(manifest(customs_status=CustomsStatus.INSPECT), 1, at(-600))
    assert rules_of(Observations(sightings, (inspect, replace(pending, version=2))), 20) == [
        ("customs_pending", "manifest:MF-1")
    ]


def test_overweight_beyond_the_tolerance() -> None:
    def weighed(kg: float) -> Observations:
        return Observations(
            manifests=(V1,), weighings=(WeighIn("w-1", "wim-1", GATE, at(0), PLATE, kg),)
        )

    assert rules_of(weighed(30_000 * 1.15 + 500)) == []
    (alert,) = evaluate(weighed(40_000), now=at(1))
    assert (alert.rule, alert.subject, alert.evidence) == (
        "overweight",
        "manifest:MF-1",
        ("w-1", "MF-1"),
    )
    assert "33% over" in alert.explanation


def booking(n: int, kind: BookingKind, minutes: float, **kw: object) -> BookingChange:
    base = BookingChange(
        f"e-{n}-{kind}", f"b-{n}", "firm-07", f"MF-{n}", GATE, kind, at(minutes), at(600), "key-7"
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_a_firm_that_does_not_show() -> None:
    changes = [
        booking(n, BookingKind.NO_SHOW if n % 2 else BookingKind.USED, n) for n in range(1, 25)
    ]
    (alert,) = evaluate(Observations(bookings=tuple(changes)), now=at(100))
    assert (alert.rule, alert.subject, alert.raised_at) == ("no_show_rate", "firm:firm-07", at(20))
    fine = [
        booking(n, BookingKind.NO_SHOW if n % 10 == 0 else BookingKind.USED, n)
        for n in range(1, 60)
    ]
    assert rules_of(Observations(bookings=tuple(fine))) == []


def test_no_shows_marked_at_one_time_give_one_alert_whatever_their_event_ids() -> None:
    """The decider marks a batch's no-shows at one time, the gate's clock, each event with
    an id of its own (uuid4): a live run and its replay give the same bookings other ids.
    The alert (its evidence, where the rate was crossed) must not depend on them: until
    2026-12-06 changes of one time were taken in event-id order, and the replay of a live
    run whose clock passed many slots at once listed the no-shows in another order."""
    settled = [booking(n, BookingKind.USED, n) for n in range(1, 13)]
    marked = [booking(n, BookingKind.NO_SHOW, 30) for n in range(13, 31)]
    found = set()
    for seed in range(6):
        rng = random.Random(seed)
        ids = [replace(c, event_id=f"{rng.getrandbits(64):016x}") for c in marked]
        (alert,) = evaluate(Observations(bookings=(*settled, *ids)), now=at(100))
        found.add((alert.raised_at, alert.evidence, alert.explanation))
    assert len(found) == 1, found


def test_cancel_and_rebook_earlier_is_a_jump() -> None:
    cancel = booking(1, BookingKind.CANCELLED, 0)
    earlier = booking(2, BookingKind.CREATED, 1, manifest_id="MF-1", slot_start=at(300))
    later = replace(earlier, slot_start=at(700))
    assert rules_of(Observations(bookings=(cancel, earlier))) == [("rebook_jump", "manifest:MF-1")]
    assert rules_of(Observations(bookings=(cancel, later))) == []
    slow = replace(earlier, at=at(11))
    assert rules_of(Observations(bookings=(cancel, slow))) == []


def test_many_bookings_from_one_key_in_a_burst() -> None:
    burst = [booking(n, BookingKind.CREATED, n * 0.04) for n in range(20)]  # 20 in 46 s
    (alert,) = evaluate(Observations(bookings=tuple(burst)), now=at(10))
    assert (alert.rule, alert.subject) == ("booking_burst", "key:key-7")
    assert len(alert.evidence) == 20
    spread = [booking(n, BookingKind.CREATED, n * 0.1) for n in range(20)]  # 20 in 114 s
    assert rules_of(Observations(bookings=tuple(spread))) == []


def test_the_same_observations_in_any_order_give_the_same_alerts() -> None:
    sightings = [
        *crossing("t1", 0, exit_after=None),
        *crossing("t2", 20),
        *crossing("u1", 5, plate="29H55555", exit_after=None),
    ]
    sightings[1] = replace(sightings[1], containers=("TGHU7654321",))
    bookings = [booking(n, BookingKind.CREATED, n * 0.01) for n in range(25)]
    obs = Observations(tuple(sightings), (V1,), (), tuple(bookings))
    expected = evaluate(obs, now=at(600))
    assert {a.rule for a in expected} == {"cloned_plate", "swap", "lost_truck", "booking_burst"}
    rng = random.Random(7)
    for _ in range(5):
        rng.shuffle(sightings)
        rng.shuffle(bookings)
        assert (
            evaluate(Observations(tuple(sightings), (V1,), (), tuple(bookings)), now=at(600))
            == expected
        )


def test_one_alert_per_rule_and_subject() -> None:
    sightings = [*crossing("t1", 0, exit_after=None), *crossing("t2", 20, exit_after=None)]
    sightings += crossing("t3", 40)
    alerts = evaluate(Observations(sightings=tuple(sightings)), now=at(600))
    clones = [a for a in alerts if a.rule == "cloned_plate"]
    assert len(clones) == 1 and clones[0].raised_at == at(20)
    assert len({a.alert_id for a in alerts}) == len(alerts)


def test_parameters_change_the_verdict() -> None:
    obs = Observations(sightings=tuple(crossing("t1", 0, exit_after=None)))
    patient = AlertRules(expected_transit=timedelta(hours=12))
    assert evaluate(obs, patient, now=at(600)) == ()


def test_explanations_name_times_on_the_gate_s_clock() -> None:
    """A controller at Huu Nghi (UTC+07:00) reads the gate's clock, not ISO UTC (a tester
    read "2025-06-01T10:01:00+00:00" for a truck that entered at 17:01): the time, the date
    only when it is not the alert's local day, and the zone named."""
    hanoi = AlertRules(utc_offset=timedelta(hours=7))
    other = crossing("t0", -200, plate="29H99999")  # the gate's exits are read
    (lost,) = evaluate(
        Observations(sightings=(*other, *crossing("t1", 0, exit_after=None))), hanoi, now=at(91)
    )
    assert "entered huu-nghi (export) at 17:01 (UTC+07:00) and no exit" in lost.explanation
    twice = Observations(sightings=(*crossing("t1", 0, exit_after=None), *crossing("t2", 20)))
    clone = next(a for a in evaluate(twice, hanoi, now=at(60)) if a.rule == "cloned_plate")
    assert "without leaving: 17:00 and 17:20 (UTC+07:00)" in clone.explanation
    cancel = booking(1, BookingKind.CANCELLED, 0)  # its slot: 03:00 the next day, local
    earlier = booking(2, BookingKind.CREATED, 1, manifest_id="MF-1", slot_start=at(300))
    (jump,) = evaluate(Observations(bookings=(cancel, earlier)), hanoi, now=at(10))
    assert "(slot 2025-06-02 03:00) and booked b-2 300 min earlier (slot 22:00, UTC+07:00)" in (
        jump.explanation
    )
    for alert in (lost, clone, jump):
        assert "+00:00" not in alert.explanation, alert.explanation
