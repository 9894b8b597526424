from __future__ import annotations

from lanes.matching import DictManifestIndex, ExactPlateMatcher, Matcher
from lanes.model import Direction, MatchOutcome
from tests.unit.factories import at, manifest, visit

MATCHER: Matcher = ExactPlateMatcher()
NOW = at(0)


def test_index_is_keyed_by_normalised_tractor_plate() -> None:
    declared = manifest("M-1", plate="29H-123.45")
    index = DictManifestIndex([declared, manifest("M-2", plate="桂A12345")])

    assert list(index.candidates("29H12345")) == [declared]
    assert list(index.candidates("29h 123.45")) == [declared]
    assert list(index.candidates("51C99999")) == []


def test_index_returns_candidates_sorted_by_manifest_id() -> None:
    index = DictManifestIndex([manifest("M-3"), manifest("M-1"), manifest("M-2")])
    assert [m.manifest_id for m in index.candidates("29H12345")] == ["M-1", "M-2", "M-3"]


def test_one_manifest_for_plate_and_direction_matches() -> None:
    declared = manifest("M-1")
    result = MATCHER.match(visit(), DictManifestIndex([declared]), now=NOW)

    assert result.outcome is MatchOutcome.MATCHED
    assert result.manifest == declared
    assert result.score == 1.0
    assert "M-1" in result.evidence


def test_no_manifest_is_unknown() -> None:
    result = MATCHER.match(visit("51C99999"), DictManifestIndex([manifest()]), now=NOW)

    assert result.outcome is MatchOutcome.UNKNOWN
    assert result.manifest is None
    assert result.score == 0.0
    assert result.evidence == "no manifest for plate 51C99999"


def test_empty_plate_is_unknown_as_unreadable() -> None:
    result = MATCHER.match(visit(""), DictManifestIndex([manifest()]), now=NOW)

    assert result.outcome is MatchOutcome.UNKNOWN
    assert result.evidence == "plate unreadable"


def test_manifest_for_the_other_direction_is_a_mismatch() -> None:
    declared = manifest("M-7", direction=Direction.IMPORT)
    result = MATCHER.match(
        visit(direction=Direction.EXPORT), DictManifestIndex([declared]), now=NOW
    )

    assert result.outcome is MatchOutcome.MISMATCH
    assert result.manifest == declared
    assert result.score == 0.0
    assert "M-7" in result.evidence
    assert "import" in result.evidence
    assert "export" in result.evidence


def test_several_manifests_one_in_window_matches_that_one() -> None:
    past = manifest("M-1", window_start=at(-180), window_end=at(-120))
    current = manifest("M-2", window_start=at(-30), window_end=at(30))
    future = manifest("M-3", window_start=at(120), window_end=None)
    result = MATCHER.match(visit(), DictManifestIndex([past, current, future]), now=NOW)

    assert result.outcome is MatchOutcome.MATCHED
    assert result.manifest == current


def test_window_bounds_are_inclusive_and_none_is_open() -> None:
    closes_now = manifest("M-1", window_start=None, window_end=NOW)
    later = manifest("M-2", window_start=at(1), window_end=None)
    result = MATCHER.match(visit(), DictManifestIndex([closes_now, later]), now=NOW)

    assert result.manifest == closes_now


def test_several_manifests_in_window_are_ambiguous_never_guessed() -> None:
    manifests = [manifest("M-2"), manifest("M-1", window_start=at(-5), window_end=at(5))]
    result = MATCHER.match(visit(), DictManifestIndex(manifests), now=NOW)

    assert result.outcome is MatchOutcome.AMBIGUOUS
    assert result.manifest is None
    assert result.score == 0.0
    assert result.evidence.endswith("M-1, M-2")


def test_several_manifests_none_in_window_are_ambiguous() -> None:
    manifests = [
        manifest("M-9", window_end=at(-60)),
        manifest("M-4", window_start=at(60)),
        manifest("M-5", direction=Direction.IMPORT),  # other direction: not listed
    ]
    result = MATCHER.match(visit(), DictManifestIndex(manifests), now=NOW)

    assert result.outcome is MatchOutcome.AMBIGUOUS
    assert result.evidence.endswith(": M-4, M-9")


def test_the_other_direction_does_not_make_a_match_ambiguous() -> None:
    manifests = [manifest("M-1"), manifest("M-2", direction=Direction.IMPORT)]
    result = MATCHER.match(visit(), DictManifestIndex(manifests), now=NOW)

    assert result.outcome is MatchOutcome.MATCHED
    assert result.manifest is not None
    assert result.manifest.manifest_id == "M-1"
