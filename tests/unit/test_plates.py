from __future__ import annotations

import pytest

from lanes.plates import (
    Country,
    PlateFormat,
    PlateKind,
    display_plate,
    normalise_plate,
    parse_plate,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("桂A·12345", "桂A12345"),
        (" 29h-123.45 ", "29H12345"),
        ("29H 123 45", "29H12345"),
        ("29LD_012/34", "29LD01234"),
        ("桂A•1234挂", "桂A1234挂"),
        ("２９Ｈ１２３４５", "29H12345"),  # full-width (NFKC)
        # a D with a stroke, as Vietnamese software writes the series LD: a D (NFKC keeps it)
        ("29LĐ-123.45", "29LD12345"),
        ("29lđ 123.45", "29LD12345"),
        ("29Ð12345", "29D12345"),  # the look-alike eth
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


@pytest.mark.parametrize(
    ("text", "country", "form", "kind", "province"),
    [
        ("29H-123.45", Country.VN, PlateFormat.VN_5, PlateKind.MOTOR, "29"),
        ("12C-1234", Country.VN, PlateFormat.VN_4, PlateKind.MOTOR, "12"),
        ("29LD-012.34", Country.VN, PlateFormat.VN_5, PlateKind.MOTOR, "29"),
        ("29R-012.34", Country.VN, PlateFormat.VN_5, PlateKind.TRAILER, "29"),
        ("29H\n123.45", Country.VN, PlateFormat.VN_5, PlateKind.MOTOR, "29"),  # two-line
        ("桂A12345", Country.CN, PlateFormat.CN, PlateKind.MOTOR, "桂"),
        ("桂A·12345", Country.CN, PlateFormat.CN, PlateKind.MOTOR, "桂"),
        ("桂A\n12345", Country.CN, PlateFormat.CN, PlateKind.MOTOR, "桂"),  # two-line
        ("粤B·A1234", Country.CN, PlateFormat.CN, PlateKind.MOTOR, "粤"),
        ("粤A·D12345", Country.CN, PlateFormat.CN_NEW_ENERGY, PlateKind.MOTOR, "粤"),
        ("桂A1234挂", Country.CN, PlateFormat.CN_TRAILER, PlateKind.TRAILER, "桂"),
        ("桂A·1234挂", Country.CN, PlateFormat.CN_TRAILER, PlateKind.TRAILER, "桂"),
    ],
)
def test_parse_says_country_format_and_kind(
    text: str, country: Country, form: PlateFormat, kind: PlateKind, province: str
) -> None:
    parsed = parse_plate(text)
    assert (parsed.country, parsed.format, parsed.kind, parsed.province) == (
        country,
        form,
        kind,
        province,
    )
    assert parsed.valid
    assert parsed.text == normalise_plate(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "29H-123",  # too short
        "29H-123456",  # too long
        "00H-123.45",  # no province 00
        "29H-12B.45",  # a letter in the serial
        "X1A12345",  # not a province character
        "桂I12345",  # no I as issuing letter
        "桂A1234O",  # no O in the serial
        "ABCDEFG",
    ],
)
def test_text_that_fits_no_rule_is_unknown(text: str) -> None:
    parsed = parse_plate(text)
    assert (parsed.country, parsed.format, parsed.valid) == (
        Country.UNKNOWN,
        PlateFormat.UNKNOWN,
        False,
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("29h12345", "29H-123.45"),
        ("12C 1234", "12C-1234"),
        ("桂A12345", "桂A·12345"),
        ("桂A1234挂", "桂A·1234挂"),
        ("??", ""),
    ],
)
def test_display_form(text: str, shown: str) -> None:
    assert display_plate(text) == shown
