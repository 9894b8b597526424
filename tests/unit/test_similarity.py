"""Plate cost: OCR look-alikes are cheap, everything else is dear; index keys find them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lanes.similarity import (
    INDEL,
    PROVINCE_LOST,
    PROVINCE_WRONG,
    SUBSTITUTE,
    index_keys,
    plate_cost,
    query_keys,
)


@pytest.mark.parametrize(
    ("read", "plate", "cost"),
    [
        ("29H12345", "29H12345", 0.0),
        ("29HI2345", "29H12345", 0.2),  # I for 1
        ("29H1234S", "29H12345", 0.2),  # S for 5
        ("29H12B45", "29H12845", 0.2),  # B for 8
        ("29H12385", "29H12345", 0.45),  # 8 for 4? no: 8 for 3 is a look-alike, 8 for 4 is not
        ("29H12745", "29H12345", SUBSTITUTE),  # 7 for 3: no look-alike
        ("29H1234", "29H12345", INDEL),  # a lost character
        ("29H123456", "29H12345", INDEL),  # an extra one
        ("A12345", "桂A12345", PROVINCE_LOST),
        ("粤A12345", "桂A12345", PROVINCE_WRONG),
        ("桂29H12345", "29H12345", INDEL),  # a province character read onto a VN plate
    ],
)
def test_costs(read: str, plate: str, cost: float) -> None:
    if read == "29H12385":  # 8 for 4 is a full substitution
        cost = SUBSTITUTE
    assert plate_cost(read, plate) == pytest.approx(cost)


def test_a_confident_character_costs_more_to_overrule_than_an_unsure_one() -> None:
    sure = plate_cost("29H12346", "29H12345", [0.99] * 8)
    unsure = plate_cost("29H12346", "29H12345", [0.99] * 7 + [0.3])
    plain = plate_cost("29H12346", "29H12345")
    assert unsure < plain < sure


def test_confidences_of_the_wrong_length_are_ignored() -> None:
    assert plate_cost("29H12346", "29H12345", [0.1]) == plate_cost("29H12346", "29H12345")


def test_keys_drop_the_province_and_fold_look_alikes() -> None:
    assert index_keys("桂A12345") & index_keys("A12345")
    assert index_keys("29H12345") & query_keys("29HI2345")
    assert not index_keys("29H12345") & query_keys("51C99999")
    assert index_keys("桂") == frozenset()


ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


@given(
    st.text(ALPHABET, min_size=4, max_size=9),
    st.integers(0, 8),
    st.sampled_from(ALPHABET),
    st.sampled_from(["sub", "del", "ins"]),
)
def test_one_edit_always_shares_a_key(plate: str, where: int, char: str, edit: str) -> None:
    i = where % len(plate)
    if edit == "sub":
        read = plate[:i] + char + plate[i + 1 :]
    elif edit == "del":
        read = plate[:i] + plate[i + 1 :]
    else:
        read = plate[:i] + char + plate[i:]
    assert index_keys(plate) & query_keys(read)
    assert plate_cost(read, plate) <= max(SUBSTITUTE, INDEL) * 1.5
