from __future__ import annotations

import pytest

from lanes.plates import normalise_plate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("桂A·12345", "桂A12345"),
        (" 29h-123.45 ", "29H12345"),
        ("29H 123 45", "29H12345"),
        ("29LD_012/34", "29LD01234"),
        ("桂A•1234挂", "桂A1234挂"),
        ("２９Ｈ１２３４５", "29H12345"),  # full-width (NFKC)
        ("29H12345", "29H12345"),
    ],
)
def test_normalise_plate(text: str, expected: str) -> None:
    assert normalise_plate(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "-.·•_/", " - "])
def test_text_without_letters_or_digits_is_empty(text: str) -> None:
    assert normalise_plate(text) == ""


def test_normalising_twice_changes_nothing() -> None:
    once = normalise_plate(" 桂a·123-45 ")
    assert normalise_plate(once) == once == "桂A12345"
