"""The OCR-tolerant matcher: each outcome, with its evidence, on VN and CN plates."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from lanes.evidence import MARGIN
from lanes.matching import BASELINE_RULE, MATCH_MAX, OcrMatcher, PlateIndex, read_texts
from lanes.model import Candidate, CustomsStatus, Direction, Manifest, MatchOutcome, PlateRead
from tests.unit.factories import at, manifest

MATCHER = OcrMatcher()
NOW = at(0)
EXPORT, IMPORT = Direction.EXPORT, Direction.IMPORT


def plate_read(
    text: str,
    confidence: float = 0.9,
    *,
    candidates: tuple[tuple[str, float], ...] = (),
    chars: tuple[float, ...] | None = None,
    containers: tuple[str, ...] = (),
    event_id: str = "r-1",
) -> PlateRead:
    return PlateRead(
        event_id=event_id,
        camera_id="hn-exp-gate-1",
        captured_at=NOW,
        plate_text=text,
        confidence=confidence,
        candidates=tuple(Candidate(t, c) for t, c in candidates),
        char_confidences=chars,
        container_numbers=containers,
    )


def match(
    manifests: list[Manifest], *reads: PlateRead, direction: Direction | None = EXPORT
) -> tuple[MatchOutcome, str | None, float, str]:
    result = MATCHER.match(reads, direction=direction, index=PlateIndex(manifests), now=NOW)
    found = None if result.manifest is None else result.manifest.manifest_id
    return result.outcome, found, result.score, result.evidence


@pytest.mark.parametrize(
    ("declared", "printed", "direction"),
    [
        ("29H12345", "29H-123.45", EXPORT),  # VN, five digits
        ("12C1234", "12C-1234", EXPORT),  # VN, older four digits
        ("29LD01234", "29LD 012.34", EXPORT),  # VN, two-letter series
        ("桂A12345", "桂A·12345", IMPORT),  # CN, middle dot
        ("粤AD12345", "粤A·D12345", IMPORT),  # CN new energy
        ("桂A12345", "桂A\n12345", IMPORT),  # two-line plate
    ],
)
def test_a_clean_read_of_each_format_matches_with_full_score(
    declared: str, printed: str, direction: Direction
) -> None:
    outcome, found, score, evidence = match(
        [manifest("M-1", declared, direction), manifest("M-2", "30C99999", direction)],
        plate_read(printed),
        direction=direction,
    )
    assert (outcome, found, score) == (MatchOutcome.MATCHED, "M-1", 1.0)
    assert "M-1" in evidence


@pytest.mark.parametrize(
    ("read", "why"),
    [
        ("29H-I23.45", "I for 1"),
        ("29H-123.4S", "S for 5"),
        ("29H-1B3.45", "B for 8"),
        ("29H-O23.45", "O for 0"),
    ],
)
def test_a_look_alike_misread_still_matches(read: str, why: str) -> None:
    declared = manifest("M-1", "29H12345" if "O" not in read else "29H02345")
    if "B" in read:
        declared = manifest("M-1", "29H18345")
    outcome, found, score, _ = match([declared], plate_read(read))
    assert (outcome, found) == (MatchOutcome.MATCHED, "M-1"), why
    assert 0.5 < score < 1.0


def test_a_lost_or_wrong_province_character_still_matches() -> None:
    declared = [manifest("M-1", "桂A12345", IMPORT)]
    assert match(declared, plate_read("A12345"), direction=IMPORT)[:2] == (
        MatchOutcome.MATCHED,
        "M-1",
    )
    assert match(declared, plate_read("粤A·12345"), direction=IMPORT)[:2] == (
        MatchOutcome.MATCHED,
        "M-1",
    )


def test_a_runner_up_candidate_rescues_a_misread() -> None:
    declared = [manifest("M-1", "29H12345")]
    lone = plate_read("29H12775", 0.9)  # two arbitrary edits: never enough alone
    rescued = plate_read("29H12775", 0.9, candidates=(("29H12775", 0.9), ("29H12345", 0.6)))
    assert match(declared, lone)[0] is MatchOutcome.UNKNOWN
    assert match(declared, rescued)[:2] == (MatchOutcome.MATCHED, "M-1")


def test_one_arbitrary_edit_from_the_only_expected_truck_is_that_truck() -> None:
    # issue 19: a stranger's plate one edit from an expected manifest's is a rarer
    # coincidence than one OCR error; a confident character is no dearer to overrule
    # (OCR is sometimes confidently wrong), an unsure one cheaper
    declared = [manifest("M-1", "29H12345")]
    unsure = plate_read("29H12346", 0.5, chars=(0.99,) * 7 + (0.4,))
    sure = plate_read("29H12346", 0.99, chars=(0.99,) * 8)
    assert match(declared, unsure)[:2] == (MatchOutcome.MATCHED, "M-1")
    assert match(declared, sure)[:2] == (MatchOutcome.MATCHED, "M-1")


def test_one_edit_between_two_expected_trucks_goes_to_review() -> None:
    declared = [manifest("M-1", "29H12342"), manifest("M-2", "29H12344")]
    outcome, found, _, evidence = match(declared, plate_read("29H12343", 0.99))
    assert (outcome, found) == (MatchOutcome.UNKNOWN, None)
    assert "not clearly ahead" in evidence


def test_the_baseline_rule_keeps_a_confident_character_dearer_to_overrule() -> None:
    declared = [manifest("M-1", "29H12345")]
    sure = plate_read("29H12346", 0.99, chars=(0.99,) * 8)
    result = OcrMatcher(BASELINE_RULE).match(
        (sure,), direction=EXPORT, index=PlateIndex(declared), now=NOW
    )
    assert result.outcome is MatchOutcome.UNKNOWN


def test_near_twins_one_character_apart_are_ambiguous_never_guessed() -> None:
    twins = [manifest("M-5", "29H12345"), manifest("M-6", "29H12348")]
    # an unsure 6 looks as much like the 5 of one twin as like the 8 of the other
    outcome, found, _, evidence = match(twins, plate_read("29H12346", 0.6))
    assert (outcome, found) == (MatchOutcome.AMBIGUOUS, None)
    assert "M-5" in evidence and "M-6" in evidence


def test_a_clean_read_of_one_twin_is_clear_of_the_other() -> None:
    twins = [manifest("M-5", "29H12345"), manifest("M-6", "29H12346")]
    assert match(twins, plate_read("29H12346"))[:2] == (MatchOutcome.MATCHED, "M-6")


def test_no_manifest_close_enough_is_unknown_with_the_nearest_as_evidence() -> None:
    outcome, found, score, evidence = match([manifest("M-1", "29H12345")], plate_read("29H12999"))
    assert (outcome, found) == (MatchOutcome.UNKNOWN, None)
    assert score < 0.5
    assert "29H12999" in evidence


def test_a_truck_without_any_close_manifest_is_unknown() -> None:
    outcome, found, score, _ = match([manifest("M-1", "29H12345")], plate_read("51C99999"))
    assert (outcome, found, score) == (MatchOutcome.UNKNOWN, None, 0.0)


def test_no_text_is_unreadable() -> None:
    assert match([manifest()], plate_read(" - "))[:2] == (MatchOutcome.UNREADABLE, None)


def test_the_other_direction_is_a_mismatch_naming_the_manifest() -> None:
    outcome, found, _, evidence = match(
        [manifest("M-1", "29H12345", IMPORT)], plate_read("29H12345")
    )
    assert (outcome, found) == (MatchOutcome.MISMATCH, "M-1")
    assert "import" in evidence and "export" in evidence


def test_a_trailer_other_than_declared_is_a_mismatch() -> None:
    declared = manifest_with_trailer("29R01234")
    tractor, trailer = plate_read("29H12345"), plate_read("29R-999.99", event_id="r-2")
    outcome, found, _, evidence = match([declared], tractor, trailer)
    assert (outcome, found) == (MatchOutcome.MISMATCH, "M-1")
    assert "29R99999" in evidence and "29R01234" in evidence


def test_a_read_of_the_declared_trailer_identifies_the_truck() -> None:
    declared = manifest_with_trailer("29R01234")
    assert match([declared], plate_read("29R-012.34"))[:2] == (MatchOutcome.MATCHED, "M-1")


def test_a_container_not_on_the_manifest_is_a_mismatch() -> None:
    declared = manifest("M-1", "29H12345", containers=("CSQU3054383",))
    same = plate_read("29H12345", containers=("CSQU 305438 3",))
    other = plate_read("29H12345", containers=("MSKU0000006",))
    assert match([declared], same)[:2] == (MatchOutcome.MATCHED, "M-1")
    outcome, found, _, evidence = match([declared], other)
    assert (outcome, found) == (MatchOutcome.MISMATCH, "M-1")
    assert "MSKU0000006" in evidence


def test_pending_customs_is_not_cleared_with_the_manifest() -> None:
    declared = manifest("M-1", customs_status=CustomsStatus.PENDING)
    assert match([declared], plate_read("29H12345"))[:2] == (MatchOutcome.NOT_CLEARED, "M-1")


def test_inspect_status_is_matched_the_lane_policy_routes_it() -> None:
    declared = manifest("M-1", customs_status=CustomsStatus.INSPECT)
    assert match([declared], plate_read("29H12345"))[:2] == (MatchOutcome.MATCHED, "M-1")


@pytest.mark.parametrize(("start", "end", "word"), [(30, 90, "early"), (-120, -45, "late")])
def test_early_or_late_is_outside_window_saying_by_how_much(
    start: int, end: int, word: str
) -> None:
    declared = manifest("M-1", window_start=at(start), window_end=at(end))
    outcome, found, _, evidence = match([declared], plate_read("29H12345"))
    assert (outcome, found) == (MatchOutcome.OUTSIDE_WINDOW, "M-1")
    assert f"{min(abs(start), abs(end))} min {word}" in evidence


def test_two_declarations_of_one_truck_are_told_apart_by_window() -> None:
    past = manifest("M-1", window_start=at(-600), window_end=at(-300))
    current = manifest("M-2", window_start=at(-30), window_end=at(30))
    assert match([past, current], plate_read("29H12345"))[:2] == (MatchOutcome.MATCHED, "M-2")


def test_two_declarations_open_at_once_are_ambiguous() -> None:
    both = [manifest("M-1"), manifest("M-2")]
    outcome, found, _, evidence = match(both, plate_read("29H12345"))
    assert (outcome, found) == (MatchOutcome.AMBIGUOUS, None)
    assert "M-1" in evidence and "M-2" in evidence


def test_several_reads_outvote_one_misread() -> None:
    twins = [manifest("M-5", "29H12345"), manifest("M-6", "29H12346")]
    reads = [plate_read("29H12345", event_id=f"r-{i}") for i in range(4)]
    misread = plate_read("29H12346", 0.9, event_id="r-9")
    assert match(twins, misread)[:2] == (MatchOutcome.MATCHED, "M-6")
    assert match(twins, *reads, misread)[:2] == (MatchOutcome.MATCHED, "M-5")


def test_unreadable_reads_do_not_dilute_the_readable_ones() -> None:
    reads = (plate_read("29H12345"), plate_read("", 0.0, event_id="r-2"))
    assert match([manifest()], *reads)[:3] == (MatchOutcome.MATCHED, "M-1", 1.0)


def test_read_texts_dedupe_and_price_runner_ups() -> None:
    texts = read_texts(
        plate_read("29h-123.45", 0.8, candidates=(("29H12345", 0.8), ("29H12845", 0.4)))
    )
    assert [t.text for t in texts] == ["29H12345", "29H12845"]
    assert texts[0].penalty == 0.0
    assert texts[1].penalty > 0.25


def test_thresholds_leave_room_for_one_cheap_look_alike() -> None:
    assert MATCH_MAX > 0.2 and MARGIN > 0


def test_the_index_proposes_plates_one_edit_away_and_no_others() -> None:
    index = PlateIndex([manifest("M-1", "29H12345"), manifest("M-2", "桂A12345", IMPORT)])
    assert {m.manifest_id for m, _ in index.lookup("29H12845")} == {"M-1"}
    assert {m.manifest_id for m, _ in index.lookup("29H1234")} == {"M-1"}
    assert {m.manifest_id for m, _ in index.lookup("A12345")} >= {"M-2"}
    assert index.lookup("51C99999") == ()


def manifest_with_trailer(trailer: str) -> Manifest:
    base = manifest("M-1", "29H12345", window_start=NOW - timedelta(hours=1))
    return replace(base, trailer_plate=trailer)
