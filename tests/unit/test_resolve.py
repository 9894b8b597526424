"""Resolving reads to trucks before grouping: misreads join their truck, twins stay apart."""

from __future__ import annotations

from lanes.matching import OcrMatcher, PlateIndex
from lanes.model import Direction, PlateRead
from lanes.resolve import resolve_reads
from lanes.visits import VisitTrack
from tests.unit.factories import at, camera, manifest

GATE = "huu-nghi"
WINDOW = at(10) - at(0)


def plate_read(text: str, minutes: float = 1, confidence: float = 0.7) -> PlateRead:
    return PlateRead("r-1", "hn-exp-gate-1", at(minutes), text, confidence)


def recent(plate: str, visit_id: str = "v-1") -> VisitTrack:
    return VisitTrack(GATE, plate, visit_id, Direction.EXPORT, at(0), at(0), 1)


def resolve(
    text: str, manifests: list[str], tracks: list[VisitTrack], *, confidence: float = 0.7
) -> tuple[str, str]:
    index = PlateIndex([manifest(f"M-{i}", p) for i, p in enumerate(manifests)])
    (found,) = resolve_reads(
        [(plate_read(text, confidence=confidence), camera())],
        matcher=OcrMatcher(),
        index=index,
        recent=tracks,
        window=WINDOW,
    )
    return found.at_gate.plate, found.how


def test_a_misread_attributed_to_a_manifest_takes_its_plate() -> None:
    assert resolve("29H-I23.45", ["29H12345"], []) == ("29H12345", "manifest")


def test_an_unattributed_misread_joins_the_one_recent_look_alike_visit() -> None:
    assert resolve("29HI2345", [], [recent("29H12345")]) == ("29H12345", "recent visit")


def test_a_read_close_to_two_recent_visits_joins_neither() -> None:
    tracks = [recent("29H12345", "v-1"), recent("29H12348", "v-2")]
    # an unsure 6 is as like the 5 of one as the 8 of the other
    assert resolve("29H12346", [], tracks, confidence=0.4) == ("29H12346", "own text")
    assert resolve("29H12346", [], tracks[:1], confidence=0.4) == ("29H12345", "recent visit")


def test_a_read_far_from_every_recent_visit_keeps_its_text() -> None:
    assert resolve("51C99999", [], [recent("29H12345")]) == ("51C99999", "own text")


def test_a_visit_outside_the_window_is_not_joined() -> None:
    old = VisitTrack(GATE, "29H12345", "v-1", Direction.EXPORT, at(-60), at(-50), 1)
    assert resolve("29HI2345", [], [old]) == ("29HI2345", "own text")


def test_a_look_alike_misread_joins_the_truck_read_in_the_same_batch() -> None:
    """Found 2026-12-06 by an outside camera integrator (two gate cameras reading a truck
    with no manifest seconds apart): `12X21892` twice and `12X21B92` once in one batch gave
    two visits, two review items for one truck, where the misread handled in a later batch
    joins the truck's visit. A batch's reads now join as if handled one by one in event
    time: each a candidate for the reads after it, whatever the order they came in."""
    reads = [
        PlateRead("r-3", "hn-exp-gate-2", at(1.05), "12X21B92", 0.95),  # the misread first
        PlateRead("r-1", "hn-exp-gate-1", at(1), "12X-218.92", 0.9),
        PlateRead("r-2", "hn-exp-gate-1", at(1.1), "12X 218 92", 0.9),
    ]
    found = resolve_reads(
        [(r, camera(r.camera_id)) for r in reads],
        matcher=OcrMatcher(),
        index=PlateIndex([manifest("M-1", "29H12345")]),
        recent=[],
        window=WINDOW,
    )
    assert [(f.at_gate.read.event_id, f.at_gate.plate) for f in found] == [
        ("r-3", "12X21892"),
        ("r-1", "12X21892"),
        ("r-2", "12X21892"),
    ]
    assert [f.how for f in found] == ["recent visit", "own text", "recent visit"]


def test_near_twins_read_in_one_batch_stay_apart() -> None:
    reads = [
        PlateRead("r-1", "hn-exp-gate-1", at(1), "51C99999", 0.95),
        PlateRead("r-2", "hn-exp-gate-1", at(1.1), "29H12345", 0.95),
        PlateRead("r-3", "hn-exp-gate-1", at(1.2), "29H12348", 0.95),
    ]
    found = resolve_reads(
        [(r, camera()) for r in reads],
        matcher=OcrMatcher(),
        index=PlateIndex([]),
        recent=[],
        window=WINDOW,
    )
    assert [f.at_gate.plate for f in found] == ["51C99999", "29H12345", "29H12348"]
