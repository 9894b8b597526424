from __future__ import annotations

import random
from datetime import timedelta

from lanes.model import Camera, CameraRole, Direction, PlateRead
from lanes.visits import ReadAtGate, VisitTrack, group_reads, visit_id_for
from tests.unit.factories import at, read

WINDOW = timedelta(minutes=10)
GATE = "huu-nghi"
KEY = (GATE, "29H12345")


def track(visit_id: str, first: float, last: float, count: int = 1) -> VisitTrack:
    return VisitTrack(GATE, "29H12345", visit_id, Direction.EXPORT, at(first), at(last), count)


def test_first_read_opens_a_visit_with_a_deterministic_id() -> None:
    grouping = group_reads([read("r-1", minutes=0)], {}, window=WINDOW)

    (visit,) = grouping.new_visits
    assert visit.visit_id == visit_id_for(GATE, "r-1") == visit_id_for(GATE, "r-1")
    assert visit.visit_id.startswith("v-")
    assert (visit.gate_id, visit.plate, visit.direction) == (GATE, "29H12345", Direction.EXPORT)
    assert visit.read_event_ids == ("r-1",)
    assert grouping.visit_of_read == {"r-1": visit.visit_id}
    assert grouping.tracks[KEY] == VisitTrack(
        GATE, "29H12345", visit.visit_id, Direction.EXPORT, at(0), at(0), 1
    )
    assert grouping.extended == {}


def test_visit_ids_differ_by_gate_and_event() -> None:
    ids = {visit_id_for("huu-nghi", "r-1"), visit_id_for("huu-nghi", "r-2")}
    ids.add(visit_id_for("other", "r-1"))
    assert len(ids) == 3


def test_out_of_order_reads_from_two_cameras_join_one_visit() -> None:
    # The gate camera's read (10:05) arrives before the approach camera's (10:02).
    reads = [
        read("gate-a", "29H-123.45", 5, "hn-exp-gate-1"),
        read("approach", "29h 12345", 2, "hn-exp-approach-1"),
    ]
    grouping = group_reads(reads, {}, window=WINDOW)

    (visit,) = grouping.new_visits
    assert visit.read_event_ids == ("approach", "gate-a")  # processing order: captured_at
    assert visit.visit_id == visit_id_for(GATE, "approach")
    assert (visit.first_seen_at, visit.last_seen_at) == (at(2), at(5))
    assert grouping.tracks[KEY].read_count == 2


def test_late_read_from_another_camera_extends_the_known_visit_backwards() -> None:
    known = track("v-known", first=5, last=5)
    early = read("approach", "29H12345", 0, "hn-exp-approach-1")

    grouping = group_reads([early], {KEY: known}, window=WINDOW)

    assert grouping.new_visits == ()
    assert grouping.extended == {"v-known": ("approach",)}
    assert grouping.visit_of_read == {"approach": "v-known"}
    assert grouping.tracks[KEY] == track("v-known", first=0, last=5, count=2)


def test_a_late_read_joins_the_older_visit_it_belongs_to_not_a_third() -> None:
    """Cameras sit on different partitions: a truck's gate read (10:30) may be handled
    after its exit read (10:50) opened a newer visit, the key's track. With the track alone
    the gate read opened a third visit, decided again; the gate's recent visits let it join
    the one it belongs to (10:25-10:26), which is saved with its new times."""
    older = track("v-arrival", first=25, last=26, count=2)
    newer = track("v-exit", first=50, last=50)
    late = read("gate", "29H12345", 30, "hn-exp-gate-2")

    grouping = group_reads([late], {KEY: newer}, window=WINDOW, recent=[older, newer])

    assert grouping.new_visits == ()
    assert grouping.visit_of_read == {"gate": "v-arrival"}
    assert grouping.extended == {"v-arrival": ("gate",)}
    assert grouping.extended_tracks["v-arrival"] == track("v-arrival", 25, 30, count=3)
    assert grouping.tracks[KEY] == newer  # the newest visit stays the key's track
    # without the recent visits: a third visit, as before
    alone = group_reads([late], {KEY: newer}, window=WINDOW)
    assert len(alone.new_visits) == 1


def test_read_at_the_window_edge_joins() -> None:
    grouping = group_reads([read("r-2", minutes=15)], {KEY: track("v-1", 0, 5)}, window=WINDOW)
    assert grouping.extended == {"v-1": ("r-2",)}


def test_read_past_the_window_opens_a_new_visit_that_becomes_the_track() -> None:
    grouping = group_reads([read("r-9", minutes=16)], {KEY: track("v-1", 0, 5)}, window=WINDOW)

    (visit,) = grouping.new_visits
    assert visit.visit_id == visit_id_for(GATE, "r-9")
    assert grouping.extended == {}
    assert grouping.tracks[KEY].visit_id == visit.visit_id


def test_read_long_before_the_track_opens_a_visit_but_keeps_the_track() -> None:
    known = track("v-late", first=60, last=62)
    grouping = group_reads(
        [read("old-1", minutes=0), read("old-2", minutes=1)], {KEY: known}, window=WINDOW
    )

    (visit,) = grouping.new_visits  # both old reads form one visit, not two
    assert visit.read_event_ids == ("old-1", "old-2")
    assert grouping.tracks[KEY] == known


def test_reads_chained_within_the_window_stay_one_visit() -> None:
    reads = [read(f"r-{m}", minutes=m) for m in (0, 8, 16, 24)]
    grouping = group_reads(reads, {}, window=WINDOW)

    (visit,) = grouping.new_visits
    assert visit.read_event_ids == ("r-0", "r-8", "r-16", "r-24")
    assert grouping.tracks[KEY].read_count == 4


def test_a_batch_spanning_two_visits_opens_both_in_order() -> None:
    reads = [read("b", minutes=30), read("a", minutes=0), read("a2", minutes=1)]
    grouping = group_reads(reads, {}, window=WINDOW)

    first, second = grouping.new_visits
    assert first.read_event_ids == ("a", "a2")
    assert second.read_event_ids == ("b",)
    assert grouping.tracks[KEY].visit_id == second.visit_id


def test_different_plates_are_different_visits() -> None:
    reads = [read("r-1", "29H-123.45", 0), read("r-2", "桂A·12345", 0)]
    grouping = group_reads(reads, {}, window=WINDOW)

    assert [v.plate for v in grouping.new_visits] == ["29H12345", "桂A12345"]
    assert set(grouping.tracks) == {KEY, (GATE, "桂A12345")}


def test_the_same_plate_at_another_gate_is_another_visit() -> None:
    elsewhere = Camera("other-cam", "other-gate", Direction.EXPORT, CameraRole.GATE_IN)
    here = read("r-1", minutes=0)
    there = ReadAtGate(
        PlateRead(
            event_id="r-2",
            camera_id="other-cam",
            captured_at=at(0),
            plate_text="29H12345",
            confidence=0.9,
        ),
        elsewhere,
        "29H12345",
    )
    grouping = group_reads([here, there], {}, window=WINDOW)

    assert {v.gate_id for v in grouping.new_visits} == {GATE, "other-gate"}
    assert set(grouping.tracks) == {KEY, ("other-gate", "29H12345")}


def test_direction_comes_from_the_camera_of_the_opening_read() -> None:
    grouping = group_reads([read("r-1", "桂A12345", 0, "hn-imp-gate-2")], {}, window=WINDOW)
    assert grouping.new_visits[0].direction is Direction.IMPORT


def test_unreadable_plates_are_each_their_own_visit() -> None:
    reads = [read("u-1", "", 0), read("u-2", " -·- ", 0.5), read("r-1", "29H12345", 1)]
    grouping = group_reads(reads, {}, window=WINDOW)

    unreadable = [v for v in grouping.new_visits if v.plate == ""]
    assert [v.read_event_ids for v in unreadable] == [("u-1",), ("u-2",)]
    assert [v.visit_id for v in unreadable] == [
        visit_id_for(GATE, "u-1"),
        visit_id_for(GATE, "u-2"),
    ]
    assert set(grouping.tracks) == {KEY}  # no track for an empty plate


def test_duplicate_event_ids_count_once() -> None:
    reads = [read("r-1", minutes=0), read("r-1", minutes=0), read("r-2", minutes=1)]
    grouping = group_reads(reads, {}, window=WINDOW)

    (visit,) = grouping.new_visits
    assert visit.read_event_ids == ("r-1", "r-2")
    assert grouping.tracks[KEY].read_count == 2


def test_shuffled_batches_give_the_same_grouping_and_ids() -> None:
    reads = [
        read("a-1", "29H-123.45", 0, "hn-exp-approach-1"),
        read("a-2", "29H12345", 3, "hn-exp-gate-1"),
        read("a-3", "29H12345", 3, "hn-exp-gate-2"),  # same instant: event_id breaks the tie
        read("a-4", "29H12345", 40, "hn-exp-gate-1"),
        read("b-1", "桂A·12345", 2, "hn-imp-approach-1"),
        read("b-2", "桂A12345", 1, "hn-imp-gate-1"),
        read("u-1", "", 2, "hn-imp-gate-2"),
    ]
    tracks = {KEY: track("v-old", first=-30, last=-9)}
    expected = group_reads(reads, tracks, window=WINDOW)
    rng = random.Random(7)
    for _ in range(20):
        shuffled = reads[:]
        rng.shuffle(shuffled)
        assert group_reads(shuffled, tracks, window=WINDOW) == expected
    assert expected.extended == {"v-old": ("a-1", "a-2", "a-3")}
    assert [v.read_event_ids for v in expected.new_visits] == [("b-2", "b-1"), ("u-1",), ("a-4",)]
