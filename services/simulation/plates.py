"""Plates as the border cameras print them, and the OCR mistakes they make.

Vietnam: `NNL-NNN.NN` (older `NNL-NNNN`); trucks in series C, H and LD, trailers in R; the
province code 12 is Lang Son, where the gate is. China: province character, a letter and
five alphanumerics without I or O (`桂A12345`, printed `桂A·12345`); trailers end in `挂`.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from lanes.plates import normalise_plate

_VN_PROVINCES = ("12", "29", "30", "14", "15", "16", "20", "34", "89", "98", "99", "51", "43")
_VN_PROVINCE_WEIGHTS = (30, 10, 6, 6, 6, 4, 4, 4, 4, 5, 5, 3, 3)
_VN_TRUCK_SERIES = ("C", "H", "LD")
_VN_TRUCK_SERIES_WEIGHTS = (55, 35, 10)
_CN_PROVINCES = ("桂", "粤", "湘", "云", "川", "闽", "浙", "苏")
_CN_PROVINCE_WEIGHTS = (70, 10, 4, 4, 3, 3, 3, 3)
_CN_LETTERS = tuple(ch for ch in string.ascii_uppercase if ch not in "IO")

# The look-alikes an OCR model confuses; a noisy read makes one of these mistakes.
CONFUSABLE: dict[str, str] = {
    "O": "0",
    "0": "OD",
    "D": "0",
    "I": "1",
    "1": "I",
    "B": "8",
    "8": "B",
    "S": "5",
    "5": "S",
    "Z": "2",
    "2": "Z",
}
# Wider look-alikes, for the runner-up candidates a camera lists after its top reading.
_LOOKALIKE: dict[str, str] = {
    **CONFUSABLE,
    "3": "8",
    "6": "G8",
    "G": "6",
    "7": "1T",
    "4": "A",
    "A": "4",
    "H": "M",
    "M": "H",
    "C": "G",
    "9": "8",
}


@dataclass(frozen=True, slots=True)
class SimPlate:
    """One physical plate; `forms` are the ways cameras print it (all normalise alike)."""

    forms: tuple[str, ...]

    @property
    def text(self) -> str:
        """The normalised plate, as declarations store it."""
        return normalise_plate(self.forms[0])


def vn_plate(
    rng: random.Random, *, series: str | None = None, province: str | None = None
) -> SimPlate:
    """A Vietnamese plate; a truck's series unless `series` is given (`R` for a trailer)."""
    province = province or rng.choices(_VN_PROVINCES, weights=_VN_PROVINCE_WEIGHTS)[0]
    series = series or rng.choices(_VN_TRUCK_SERIES, weights=_VN_TRUCK_SERIES_WEIGHTS)[0]
    head = f"{province}{series}"
    if rng.random() < 0.1:  # an older four-digit plate
        serial = f"{rng.randrange(10_000):04d}"
        return SimPlate((f"{head}-{serial}", f"{head}{serial}", f"{head} {serial}"))
    serial = f"{rng.randrange(100_000):05d}"
    dotted = f"{serial[:3]}.{serial[3:]}"
    return SimPlate((f"{head}-{dotted}", f"{head}{serial}", f"{head} {dotted}", f"{head}-{serial}"))


def cn_plate(rng: random.Random, *, trailer: bool = False) -> SimPlate:
    """A Chinese plate: mostly Guangxi (`桂`); a trailer's has four digits and `挂`."""
    head = rng.choices(_CN_PROVINCES, weights=_CN_PROVINCE_WEIGHTS)[0] + rng.choice(_CN_LETTERS)
    if trailer:
        serial = f"{rng.randrange(10_000):04d}挂"
    else:
        chars = [rng.choice(string.digits) for _ in range(5)]
        if rng.random() < 0.15:  # some serials carry a letter (never I or O)
            chars[rng.randrange(5)] = rng.choice(_CN_LETTERS)
        serial = "".join(chars)
    return SimPlate((f"{head}·{serial}", f"{head}{serial}", f"{head} {serial}"))


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def _substitute(text: str, rng: random.Random, table: dict[str, str]) -> str | None:
    positions = [i for i, char in enumerate(text) if char in table]
    if not positions:
        return None
    i = rng.choice(positions)
    return text[:i] + rng.choice(table[text[i]]) + text[i + 1 :]


def misread(text: str, rng: random.Random, *, drop_share: float = 0.35) -> str | None:
    """`text` with one OCR mistake: a look-alike swapped (O/0, I/1, B/8, S/5, Z/2, D/0) or,
    on a Chinese plate, the province character lost. None when `text` allows neither."""
    can_drop = bool(text) and _is_cjk(text[0])
    if can_drop and rng.random() < drop_share:
        return text[1:]
    swapped = _substitute(text, rng, CONFUSABLE)
    if swapped is None and can_drop:
        return text[1:]
    return swapped


def alternatives(text: str, rng: random.Random, *, count: int, avoid: set[str]) -> list[str]:
    """Up to `count` runner-up readings of `text` (look-alike swaps) whose normalised form
    is in neither `avoid` nor each other."""
    found: list[str] = []
    seen = set(avoid)
    for _ in range(4 * count):
        if len(found) == count:
            break
        alt = _substitute(text, rng, _LOOKALIKE)
        if alt is None:
            break
        if normalise_plate(alt) not in seen:
            seen.add(normalise_plate(alt))
            found.append(alt)
    return found
