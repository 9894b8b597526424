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
