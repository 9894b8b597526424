"""The matcher's evidence beyond one plate string (issue 19): the hypothesis of a truck with no
manifest and how many manifests are expected, rows swapped or lost, trailers, several reads."""

from __future__ import annotations

from dataclasses import replace

from lanes.evidence import rows_swapped, stranger_plates
from lanes.matching import (
    NONE_PRIOR_MAX,
    NONE_PRIOR_MIN,
    OcrMatcher,
    PlateIndex,
    none_prior,
)
from lanes.model import Direction, Manifest, MatchOutcome, PlateRead
from tests.unit.factories import at, manifest

NOW = at(0)
EXPORT, IMPORT = Direction.EXPORT, Direction.IMPORT
MATCHER = OcrMatcher()


def plate_read(text: str, event_id: str = "r-1", confidence: float = 0.9) -> PlateRead:
    return PlateRead(
        event_id=event_id,
        camera_id="hn-exp-gate-1",
        captured_at=NOW,
        plate_text=text,
        confidence=confidence,
        candidates=(),
        char_confidences=None,
    )


def match(declared: list[Manifest], *reads: PlateRead) -> tuple[MatchOutcome, str | None, str]:
    index = PlateIndex(declared, complete=True)
    result = MATCHER.match(reads, direction=EXPORT, index=index, now=NOW)
    found = None if result.manifest is None else result.manifest.manifest_id
    return result.outcome, found, result.evidence


def crowd(n: int) -> list[Manifest]:
    """`n` expected manifests far from the plates the tests read."""
    return [manifest(f"C-{i}", f"99C{10000 + 37 * i:05d}") for i in range(n)]


def test_expected_counts_the_open_manifests_of_one_direction() -> None:
    declared = [
        manifest("M-1", window_start=at(-60), window_end=at(60)),
        manifest("M-2", "29H12346", window_start=at(30), window_end=at(90)),
        manifest("M-3", "29H12347", window_start=at(-90), window_end=at(-30)),
        manifest("M-4", "29H12348"),  # no window: always open
        manifest("M-5", "桂A12345", IMPORT),
    ]
    index = PlateIndex(declared, complete=True)
    assert index.expected(EXPORT, NOW) == 2
    assert index.expected(IMPORT, NOW) == 1
    assert index.expected(EXPORT, at(45)) == 3
    assert PlateIndex(declared).expected(EXPORT, NOW) is None  # a partial index cannot say


def test_the_stranger_prior_falls_as_more_manifests_are_expected() -> None:
    priors = [none_prior(n) for n in (1, 10, 50, 300, 5_000)]
    assert priors == sorted(priors, reverse=True)
    assert priors[-1] >= NONE_PRIOR_MIN
    assert priors[0] <= NONE_PRIOR_MAX
    assert none_prior(None) == NONE_PRIOR_MIN


def test_one_edit_is_enough_among_few_expected_trucks_not_among_many() -> None:
    mine = manifest("M-1", "12C45678")
    read = plate_read("12C45672")  # 2 for 8: no look-alike
    assert match([mine], read)[:2] == (MatchOutcome.MATCHED, "M-1")
    outcome, found, why = match([mine, *crowd(600)], read)
    assert (outcome, found) == (MatchOutcome.UNKNOWN, None)
    assert "12C45672, a valid plate of no manifest here" in why


def test_several_reads_agreeing_on_another_valid_plate_go_to_review() -> None:
    reads = [plate_read("29H12375", f"r-{i}") for i in range(3)]
    outcome, found, why = match([manifest("M-1", "29H12345")], *reads)
    assert (outcome, found) == (MatchOutcome.UNKNOWN, None)
    assert "no trailer or container read confirms it" in why


def test_a_clean_read_outweighs_a_misread_of_the_same_truck() -> None:
    reads = [plate_read("29H12345", "r-1"), plate_read("29H12375", "r-2")]
    assert match([manifest("M-1", "29H12345"), *crowd(600)], *reads)[:2] == (
        MatchOutcome.MATCHED,
        "M-1",
    )


def test_a_read_of_another_vehicle_does_not_sink_the_truck() -> None:
    reads = [plate_read("29H12345", "r-1"), plate_read("51C98765", "r-2")]
    reads.append(plate_read("29H12375", "r-3"))
    assert match([manifest("M-1", "29H12345"), *crowd(600)], *reads)[:2] == (
        MatchOutcome.MATCHED,
        "M-1",
    )


def test_rows_swapped_and_a_lost_top_row() -> None:
    assert rows_swapped("3456712C") == "12C34567"
    assert rows_swapped("12345桂A") == "桂A12345"
    assert rows_swapped("12C34567") is None
    mine = manifest("M-1", "12C34567")
    assert match([mine], plate_read("34567 12C"))[:2] == (MatchOutcome.MATCHED, "M-1")
    # the serial alone, next to a clean read: one edit, not a hopeless read
    reads = [plate_read("12C34567", "r-1"), plate_read("34567", "r-2")]
    assert match([mine, *crowd(600)], *reads)[:2] == (MatchOutcome.MATCHED, "M-1")


def test_a_stranger_is_never_given_a_manifests_plate_and_fixes_a_misfit_read() -> None:
    assert stranger_plates((("29H12345",),)) == ("29H12345",)
    fixed = stranger_plates((("29H1234S",),))  # fits no format: S for 5 makes it fit
    assert "29H12345" in fixed


def test_a_trailer_read_transposed_is_no_mismatch_but_another_trailer_is() -> None:
    declared = replace(manifest("M-1", "29H12345"), trailer_plate="29R01234")
    tractor = plate_read("29H12345", "r-1", 0.95)
    swapped = plate_read("29R-012.43", "r-2", 0.95)
    other = plate_read("29R-999.99", "r-3", 0.95)
    assert match([declared], tractor, swapped)[:2] == (MatchOutcome.MATCHED, "M-1")
    outcome, _, why = match([declared], tractor, other)
    assert outcome is MatchOutcome.MISMATCH
    assert "trailer 29R99999 read, manifest declares 29R01234" in why
