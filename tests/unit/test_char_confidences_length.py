"""`char_confidences` of another length than the normalised plate text: the read is priced
with its own confidence, as one that sent none, not as a read of no confidence at all.

Found by a stranger's camera client (2026-12-06): the event formats say one per character of
the *normalised* plate_text; a camera sending one per character as printed ('29H-123.46': 10
for 8) had them set aside silently, and with them its read's confidence of 0.95, so a
confidently read wrong character was as cheap to overrule as an unsure one: score 0.64
instead of 0.48 against the one-edit-off manifest."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lanes.matching import OcrMatcher, PlateIndex
from lanes.model import CustomsStatus, Direction, Manifest, PlateRead

NOW = datetime(2025, 7, 14, 3, 0, tzinfo=UTC)
INDEX = PlateIndex(
    [Manifest("M-1", "f", Direction.EXPORT, "29H12345", customs_status=CustomsStatus.CLEARED)]
)


def _score(char_confidences: tuple[float, ...] | None) -> float:
    read = PlateRead(
        "r", "hn-exp-gate-1", NOW, "29H-123.46", 0.95, char_confidences=char_confidences
    )
    return OcrMatcher().match([read], direction=Direction.EXPORT, index=INDEX, now=NOW).score


@pytest.mark.parametrize("count", [2, 10, 32])
def test_a_list_of_another_length_prices_the_read_as_one_without_it(count: int) -> None:
    assert _score((0.3,) * count) == _score(None)


def test_a_list_of_the_right_length_still_counts() -> None:
    assert _score((0.95,) * 8) == _score(None)  # the read's own confidence, character by character
    assert _score((0.3,) * 8) > _score(None)  # unsure characters: cheaper to overrule
