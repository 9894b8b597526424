"""Plate text as cameras and declarations write it -> one canonical form, and the rules of the
two countries' plates.

Vietnam: province code (2 digits), series (1-2 letters, trucks `C`, `H`, `LD`...; trailers
and semi-trailers `R`), then 5 digits printed `NNN.NN` or, on older plates, 4: `29H-123.45`,
`12C-1234`, `29R-012.34`. Two-line plates print the head on the first line.
China: province character, a letter, five alphanumerics without I or O, often printed with a
middle dot (`桂A·12345`); a trailer's plate has four and ends in `挂` (`桂A1234挂`); a
new-energy plate has six (`粤AD12345`). Two-line (large truck) plates print `桂A` on top.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class Country(StrEnum):
    VN = "VN"
    CN = "CN"
    UNKNOWN = "unknown"


class PlateFormat(StrEnum):
    VN_5 = "vn_5_digit"  # 29H-123.45
    VN_4 = "vn_4_digit"  # 12C-1234 (older)
    CN = "cn_standard"  # 桂A·12345
    CN_NEW_ENERGY = "cn_new_energy"  # 粤A·D12345
    CN_TRAILER = "cn_trailer"  # 桂A·1234挂
    UNKNOWN = "unknown"


class PlateKind(StrEnum):
    MOTOR = "motor"  # a tractor or rigid truck
    TRAILER = "trailer"


# The 31 mainland provinces' one-character abbreviations.
CN_PROVINCES = frozenset("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼")
CN_TRAILER_MARK = "挂"

_NOT_ASCII_ALNUM = re.compile(r"[^0-9A-Z]+")
_NOT_ALNUM = re.compile(r"[\W_]+")  # \w is exactly str.isalnum() plus "_"
# upper case already: Đ (U+0110, Vietnamese) and Ð (U+00D0, the look-alike eth)
_D_WITH_STROKE = str.maketrans({"\u0110": "D", "\u00d0": "D"})
_VN = re.compile(r"(\d{2})([A-Z]{1,2})(\d{4,5})")
_CN_SERIAL = "[A-HJ-NP-Z0-9]"
_CN = re.compile(rf"([^\x00-\x7f])([A-HJ-NP-Z])({_CN_SERIAL}{{5}})")
_CN_NEW_ENERGY = re.compile(rf"([^\x00-\x7f])([A-HJ-NP-Z])([DF]{_CN_SERIAL}{{5}})")
_CN_TRAILER = re.compile(rf"([^\x00-\x7f])([A-HJ-NP-Z])({_CN_SERIAL}{{4}})挂")


@dataclass(frozen=True, slots=True)
class ParsedPlate:
    """What a plate's text says about it. `text` is always the normalised form."""

    text: str
    country: Country
    format: PlateFormat
    kind: PlateKind | None = None
    province: str | None = None  # `29` or `桂`
    series: str | None = None  # `H`, `LD`, `R` (Vietnam) or the issuing letter (China)

    @property
    def valid(self) -> bool:
        return self.format is not PlateFormat.UNKNOWN


# a pure function called about 20 times a read (each text and candidate, by the matcher,
# the resolution and the alert rules), on few distinct texts: kept for the last 65,536
@lru_cache(maxsize=65_536)
def normalise_plate(text: str) -> str:
    """NFKC, upper case, letters and digits only (CJK kept).

    Spaces, line breaks and separators (`-`, `.`, `·`, `•`, `_`, `/` and any other
    punctuation) go: `桂A·12345` -> `桂A12345`, ` 29h-123.45 ` -> `29H12345`. A D with a
    stroke (Vietnamese `Đ`/`đ`, or its look-alike `Ð`) is a `D`: no plate has one, but
    Vietnamese software and keyboards write it (`29LĐ-123.45` for `29LD12345`), and NFKC
    keeps it as a letter of its own. Text with no letter or digit gives "" (an unreadable
    plate). Idempotent; one character for one, so `char_confidences` keep their places.
    """
    if text.isascii():  # the common case, an order of magnitude faster
        return _NOT_ASCII_ALNUM.sub("", text.upper())
    folded = unicodedata.normalize("NFKC", text).upper().translate(_D_WITH_STROKE)
    return _NOT_ALNUM.sub("", folded)


def parse_plate(text: str) -> ParsedPlate:
    """Parse any printed form (one- or two-line, dotted or not); never raises: text that fits
    no rule parses as `PlateFormat.UNKNOWN`, country `UNKNOWN`."""
    plate = normalise_plate(text)
    if found := _VN.fullmatch(plate):
        province, series, serial = found.groups()
        if province != "00":
            return ParsedPlate(
                text=plate,
                country=Country.VN,
                format=PlateFormat.VN_5 if len(serial) == 5 else PlateFormat.VN_4,
                kind=PlateKind.TRAILER if series.startswith("R") else PlateKind.MOTOR,
                province=province,
                series=series,
            )
    for pattern, form, kind in (
        (_CN, PlateFormat.CN, PlateKind.MOTOR),
        (_CN_NEW_ENERGY, PlateFormat.CN_NEW_ENERGY, PlateKind.MOTOR),
        (_CN_TRAILER, PlateFormat.CN_TRAILER, PlateKind.TRAILER),
    ):
        found = pattern.fullmatch(plate)
        if found and found.group(1) in CN_PROVINCES:
            return ParsedPlate(
                text=plate,
                country=Country.CN,
                format=form,
                kind=kind,
                province=found.group(1),
                series=found.group(2),
            )
    return ParsedPlate(text=plate, country=Country.UNKNOWN, format=PlateFormat.UNKNOWN)


def may_be_trailer(plate: str) -> bool:
    """A quick test on a normalised plate: False means surely no trailer's plate."""
    return plate.endswith(CN_TRAILER_MARK) or (len(plate) > 3 and "R" in plate[2:4])


def display_plate(text: str) -> str:
    """The conventional printed form: `29H-123.45`, `12C-1234`, `桂A·12345`; unknown as is."""
    parsed = parse_plate(text)
    if parsed.country is Country.VN:
        serial = parsed.text[len(f"{parsed.province}{parsed.series}") :]
        if len(serial) == 5:
            serial = f"{serial[:3]}.{serial[3:]}"
        return f"{parsed.province}{parsed.series}-{serial}"
    if parsed.country is Country.CN:
        return f"{parsed.text[:2]}·{parsed.text[2:]}"
    return parsed.text
