"""Errors priced by how many reads they make of a plate and how many plates they make a read
from (issue 19): a transposition is cheap, an arbitrary substitution, a lost or an extra
character are not; a read of a two-line plate's bottom row alone finds the plate by its
serial."""

from __future__ import annotations

import pytest

from lanes.matching import OcrMatcher, PlateIndex
from lanes.model import Direction, Manifest, MatchOutcome, PlateRead
from lanes.similarity import (
    INDEL,
    SERIAL_MARK,
    SUBSTITUTE,
    TRANSPOSE,
    TRANSPOSE_VALID,
    index_keys,
    near_keys,
    plate_cost,
    query_keys,
)
from tests.unit.factories import at, manifest

NOW = at(0)


def plate_read(text: str, event_id: str = "r-1") -> PlateRead:
    return PlateRead(
        event_id=event_id,
        camera_id="hn-exp-gate-1",
        captured_at=NOW,
        plate_text=text,
        confidence=0.9,
        candidates=(),
        char_confidences=None,
    )


def match(declared: list[Manifest], *reads: PlateRead) -> tuple[MatchOutcome, str | None]:
    index = PlateIndex(declared, complete=True)
    result = OcrMatcher().match(reads, direction=Direction.EXPORT, index=index, now=NOW)
    return result.outcome, None if result.manifest is None else result.manifest.manifest_id


def crowd(n: int) -> list[Manifest]:
    """`n` expected manifests far from the plates the tests read."""
    return [manifest(f"C-{i}", f"99C{10000 + 37 * i:05d}") for i in range(n)]


@pytest.mark.parametrize(
    ("read", "with_evidence", "plate_alone"),
    [
        ("12C45768", TRANSPOSE_VALID, 2 * SUBSTITUTE),  # two adjacent characters swapped
        ("12C456708", INDEL, INDEL),  # a stray extra character: about 36 reads of the plate
        ("12C4568", INDEL, INDEL),  # a lost character: about 36 plates could give this read
        ("12C45672", SUBSTITUTE, SUBSTITUTE),  # an arbitrary substitution (2 for 8)
    ],
)
def test_an_error_costs_less_the_fewer_plates_could_give_the_read(
    read: str, with_evidence: float, plate_alone: float
) -> None:
    assert plate_cost(read, "12C45678", swaps=True) == pytest.approx(with_evidence)
    assert plate_cost(read, "12C45678") == pytest.approx(plate_alone)
    assert TRANSPOSE < SUBSTITUTE


def test_a_transposition_is_cheap_only_when_the_caller_says_the_read_fits_no_format() -> None:
    assert plate_cost("1C245678", "12C45678", swaps=True, transpose=TRANSPOSE) == TRANSPOSE
    assert plate_cost("1C245678", "12C45678", swaps=True) == pytest.approx(TRANSPOSE_VALID)
    assert plate_cost("1C245678", "12C45678") == pytest.approx(2 * SUBSTITUTE)


def test_a_transposed_read_is_attributed_among_many_expected_trucks_if_no_plate() -> None:
    declared = [manifest("M-1", "12C45678"), *crowd(600)]
    assert match(declared, plate_read("1C2-456.78")) == (MatchOutcome.MATCHED, "M-1")
    # swapped into a valid plate, it is as likely the plate of a truck with no manifest
    assert match(declared, plate_read("12C-457.68")) == (MatchOutcome.UNKNOWN, None)
    # an arbitrary substitution giving a valid plate is another truck's plate as likely
    assert match(declared, plate_read("12C-456.72")) == (MatchOutcome.UNKNOWN, None)


def test_a_transposition_that_fits_two_trucks_is_not_attributed() -> None:
    declared = [manifest("M-1", "12C45678"), manifest("M-2", "12C45786"), *crowd(600)]
    outcome, found = match(declared, plate_read("12C45768"))  # one swap from either
    assert found is None
    assert outcome in {MatchOutcome.UNKNOWN, MatchOutcome.AMBIGUOUS}


def test_a_plate_is_filed_under_its_serial_which_only_a_serial_read_looks_up() -> None:
    assert SERIAL_MARK + "12345" in index_keys("29H12345")
    assert SERIAL_MARK + "12345" in index_keys("桂A12345")
    assert SERIAL_MARK + "1234" in index_keys("桂A1234挂")
    assert index_keys("29H12345") & query_keys("12345")
    assert index_keys("29H12345") & near_keys("12345")  # the decider's second look-up
    # a whole plate's read does not look plates up by their serial
    assert not index_keys("29H12345") & query_keys("51C12345")
    assert not index_keys("29H12345") & query_keys("A12345")


def test_a_read_of_the_bottom_row_alone_finds_its_truck_when_no_other_shares_it() -> None:
    mine = manifest("M-1", "12C34567")
    assert match([mine, *crowd(600)], plate_read("345.67")) == (MatchOutcome.MATCHED, "M-1")
    twin = manifest("M-2", "29H34567")
    assert match([mine, twin, *crowd(600)], plate_read("34567"))[1] is None
    # the top row alone says nothing of the truck
    assert match([mine], plate_read("12C")) == (MatchOutcome.UNKNOWN, None)
