"""The labelled matching set: deterministic, errors as labelled, twins one digit apart."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

import pytest

from lanes.matching import in_window
from lanes.model import CustomsStatus, Direction
from lanes.plates import normalise_plate, parse_plate
from services.simulation.ocr_errors import (
    ErrorKind,
    MatchingSet,
    matching_set,
    misread,
    printed_forms,
    serial_start,
    twin_plate,
)

START = datetime(2025, 6, 1, tzinfo=UTC)
CAMERAS = {Direction.EXPORT: ("hn-exp-gate-1",), Direction.IMPORT: ("hn-imp-gate-1",)}
LOST = {ErrorKind.DROPPED, ErrorKind.PROVINCE_LOST}


def _set(seed: int = 3) -> MatchingSet:
    return matching_set(seed=seed, manifests=1000, reads=4000, start=START, cameras=CAMERAS)


@pytest.fixture(scope="module")
def labelled() -> MatchingSet:
    return _set()


def test_the_same_seed_gives_the_same_set() -> None:
    def small(seed: int) -> MatchingSet:
        return matching_set(seed=seed, manifests=200, reads=300, start=START, cameras=CAMERAS)

    assert small(5) == small(5)
    assert small(5) != small(6)


def test_manifests_are_open_cleared_and_unique(labelled: MatchingSet) -> None:
    plates = [m.tractor_plate for m in labelled.manifests]
    assert len(plates) == 1000
    assert len(set(plates)) == len(plates)
    assert all(m.customs_status is CustomsStatus.CLEARED for m in labelled.manifests)
    assert all(parse_plate(p).valid for p in plates)
    by_id = {m.manifest_id: m for m in labelled.manifests}
    for item in labelled.reads:
        if item.truck.manifest_id is not None:
            manifest = by_id[item.truck.manifest_id]
            assert manifest.tractor_plate == item.truck.plate
            assert manifest.direction is item.truck.direction
            assert in_window(manifest, item.read.captured_at)
    trailers = sum(m.trailer_plate is not None for m in labelled.manifests) / 1000
    assert 0.8 < trailers < 0.9
    vietnamese = sum(p[0].isascii() for p in plates) / 1000
    assert 0.55 < vietnamese < 0.65


def test_trucks_without_manifest_carry_plates_no_manifest_has(labelled: MatchingSet) -> None:
    declared = {m.tractor_plate for m in labelled.manifests}
    strangers = [r for r in labelled.reads if r.truck.manifest_id is None]
    assert 0.12 < len(strangers) / len(labelled.reads) < 0.18
    assert all(r.truck.plate not in declared for r in strangers)


def test_twins_differ_in_exactly_one_serial_digit(labelled: MatchingSet) -> None:
    plates = {t.plate: t for t in labelled.trucks}
    twinned = [t for t in labelled.trucks if t.twin is not None]
    assert len(twinned) == 2 * 40  # 4% of 1,000 manifests got a twin
    for truck in twinned:
        assert truck.twin is not None
        other = plates[truck.twin]
        assert other.twin == truck.plate
        assert len(other.plate) == len(truck.plate)
        diff = [i for i, (a, b) in enumerate(zip(truck.plate, other.plate, strict=True)) if a != b]
        assert len(diff) == 1
        assert diff[0] >= serial_start(truck.plate)
        assert truck.plate[diff[0]].isdigit() and other.plate[diff[0]].isdigit()


def test_twin_plate_by_lookalike_uses_a_lookalike_digit() -> None:
    rng = random.Random(1)
    for _ in range(50):
        twin = twin_plate("29H33333", rng, lookalike=True)
        assert sorted(twin) == sorted("29H33338")


def test_reads_carry_the_labelled_errors(labelled: MatchingSet) -> None:
    counts = Counter(len(r.errors) for r in labelled.reads)
    assert set(counts) == {0, 1, 2}
    assert 0.66 < counts[0] / 4000 < 0.74
    assert 0.17 < counts[1] / 4000 < 0.23
    for item in labelled.reads:
        text = normalise_plate(item.read.plate_text)
        plate = item.truck.plate
        if not item.errors:
            assert text == plate
            continue
        assert text != plate
        lost = sum(kind in LOST for kind in item.errors)
        assert len(text) == len(plate) - lost
        if not lost:  # substitutions only: exactly that many characters differ
            assert sum(a != b for a, b in zip(text, plate, strict=True)) == len(item.errors)
        if not plate[0].isascii():
            continue
        assert ErrorKind.PROVINCE_LOST not in item.errors
        assert ErrorKind.PROVINCE_WRONG not in item.errors


def test_confidences_follow_the_read(labelled: MatchingSet) -> None:
    with_chars = 0
    for item in labelled.reads:
        read = item.read
        assert read.candidates[0].text == read.plate_text
        assert read.candidates[0].confidence == read.confidence
        if read.char_confidences is not None:
            with_chars += 1
            assert len(read.char_confidences) == len(normalise_plate(read.plate_text))
            assert read.confidence == min(read.char_confidences)
        texts = [normalise_plate(c.text) for c in read.candidates]
        assert len(set(texts)) == len(texts)
        if item.truck.plate in texts[1:]:  # the true plate only ever as the runner-up
            assert item.errors
            assert texts[1] == item.truck.plate
    assert 0.45 < with_chars / 4000 < 0.55


def test_misread_keeps_confidences_aligned_with_the_normalised_text() -> None:
    rng = random.Random(9)
    for form in (*printed_forms("桂A12345"), *printed_forms("29H12345")):
        for errors in (0, 1, 2):
            text, confidences, kinds = misread(form, rng, errors=errors)
            assert len(kinds) == errors
            assert len(confidences) == len(normalise_plate(text))


def test_printed_forms_normalise_to_the_plate() -> None:
    for plate in ("29H12345", "12C1234", "12LD00001", "桂A12345", "粤AD12345"):
        forms = printed_forms(plate)
        assert len(forms) >= 3
        assert {normalise_plate(f) for f in forms} == {plate}
