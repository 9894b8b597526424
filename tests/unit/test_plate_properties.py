"""Properties: normalisation is idempotent, and formatting noise never changes a match."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lanes.matching import OcrMatcher, PlateIndex
from lanes.model import Direction, PlateRead
from lanes.plates import normalise_plate, parse_plate
from tests.unit.factories import at, manifest

DIGITS = "0123456789"
CN_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
SEPARATORS = ["", " ", "-", ".", "·", "•", "  ", "\n", "_", "/"]

vn_plates = st.builds(
    lambda p, s, d: f"{p}{s}{d}",
    st.integers(11, 99).map(str),
    st.sampled_from(["C", "H", "LD", "R"]),
    st.text(DIGITS, min_size=5, max_size=5) | st.text(DIGITS, min_size=4, max_size=4),
)
cn_plates = st.builds(
    lambda p, letter, serial: f"{p}{letter}{serial}",
    st.sampled_from("桂粤湘云川闽浙苏"),
    st.sampled_from(CN_LETTERS),
    st.text(DIGITS + "ABCDEFGHJK", min_size=5, max_size=5),
)
plates = vn_plates | cn_plates


@st.composite
def printed(draw: st.DrawFn, plate: str) -> str:
    """`plate` as a camera or a clerk might write it: any case, any separators anywhere."""
    out = [draw(st.sampled_from(SEPARATORS))]
    for char in plate:
        out.append(char.lower() if draw(st.booleans()) else char)
        out.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(out)


@given(st.text())
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalise_plate(text)
    assert normalise_plate(once) == once


@given(plates.flatmap(lambda p: st.tuples(st.just(p), printed(p))))
def test_formatting_noise_never_changes_the_parse(pair: tuple[str, str]) -> None:
    plate, noisy = pair
    assert parse_plate(noisy) == parse_plate(plate)


@settings(max_examples=200)
@given(
    plates.flatmap(lambda p: st.tuples(st.just(p), printed(p))),
    st.lists(plates, max_size=5),
    st.floats(0.3, 1.0),
)
def test_formatting_noise_never_changes_a_match(
    pair: tuple[str, str], others: list[str], confidence: float
) -> None:
    plate, noisy = pair
    index = PlateIndex(
        [manifest("M-0", plate)] + [manifest(f"M-{i + 1}", p) for i, p in enumerate(others)]
    )

    def result(text: str) -> tuple[object, ...]:
        read = PlateRead("r", "hn-exp-gate-1", at(0), text, confidence)
        found = OcrMatcher().match([read], direction=Direction.EXPORT, index=index, now=at(0))
        return (found.outcome, found.manifest, found.score)

    assert result(noisy) == result(plate)
