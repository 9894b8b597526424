"""What a visit says beyond its closest plate string (issue 19): the hypothesis "a truck with
no manifest here", the trailer plate and the container numbers, and two-line plates read
with their rows swapped.

A read one arbitrary edit from an expected manifest's plate is that truck's read with one
OCR error, or the clean read of a truck with no manifest whose plate happens to lie one edit
from it. The second explains the reads at the price of the coincidence when they agree with each
other on a plate that fits a plate format (`stranger_plates`, plus `lanes.matching.none_prior`):
several reads agreeing on another plate outweigh it, one read with one error does not. The
matcher decides further when that explanation fails (the reads fit no format, or
disagree), or when something else the truck carries agrees with the manifest: a
container number with a valid ISO 6346 check digit that the manifest declares, or a
trailer plate read close to the declared one (`corroboration`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from lanes.containers import is_valid_container, normalise_container
from lanes.model import Manifest, PlateRead
from lanes.plates import normalise_plate, parse_plate
from lanes.similarity import (
    INDEL,
    LOOKALIKE_PAIRS,
    MISSING_INVALID,
    TRANSPOSE,
    TRANSPOSE_VALID,
    plate_cost,
)

# The matcher's bounds the risk alerts price exit reads by too (lanes.alerts.passes, which
# may not import lanes.matching): the least the runner-up truck's cost must exceed the best
# one's by, the most a truck's reads may cost on average when nothing else agrees (one
# arbitrary edit), and when its trailer or a container agrees (lanes.matching's evidence
# rule)
MARGIN = 0.35
EVIDENCE_MAX = 1.05
CORROBORATED_MAX = 2.1
TRAILER_AGREES = 0.5  # the most a trailer read may cost against the declared trailer plate
ROWS_SWAPPED = 0.1  # the price of reading a two-line plate's rows in the other order
ROW_LOST = 1.0  # ... and of reading its bottom row (the serial) alone, the top row lost
ROW_MIN = 4  # the fewest characters a bottom row read alone must have to count

_VN_SWAPPED = re.compile(r"(\d{4,5})(\d{2}[A-Z]{1,2})")
_CN_SWAPPED = re.compile(r"([A-HJ-NP-Z0-9]{4,6}挂?)([^\x00-\x7f][A-Z])")


@lru_cache(maxsize=4096)
def rows_swapped(text: str) -> str | None:
    """A normalised read that fits no plate format but does once its two rows are put back
    in order (`34567 12C` -> `12C34567`, `12345桂A` -> `桂A12345`), else None."""
    for pattern in (_VN_SWAPPED, _CN_SWAPPED):
        found = pattern.fullmatch(text)
        if found:
            if parse_plate(text).valid:
                return None
            fixed = found.group(2) + found.group(1)
            return fixed if parse_plate(fixed).valid else None
    return None


@lru_cache(maxsize=4096)
def fits_format(text: str) -> bool:
    return parse_plate(text).valid


def read_price(
    text: str,
    plate: str,
    *,
    swaps: bool,
    penalty: float = 0.0,
    weights: Sequence[float] | None = None,
    far: bool = False,
) -> float:
    """What a read's `text` (normalised; `penalty` the price of believing it, `weights` per
    character) costs under "the truck's plate is `plate`", as the matcher prices it. With
    `swaps` (the evidence rule), a read of a two-line plate's bottom row alone (the serial:
    the top row lost) costs ROW_LOST, and a transposition is one edit (cheaper when the read
    fits no format); a read one character short pays less for it if it fits no plate
    format. `far`: see `lanes.similarity.plate_cost`."""
    if swaps and len(plate) - len(text) >= 2 and row_of(text, plate):
        return penalty + ROW_LOST
    missing = (INDEL if fits_format(text) else MISSING_INVALID) if len(text) < len(plate) else INDEL
    return penalty + plate_cost(
        text,
        plate,
        missing=missing,
        weights=weights,
        swaps=swaps,
        # a read that is itself a valid plate is as likely the clean read of a truck with no
        # manifest whose plate lies one transposition from an expected one (issue 19)
        transpose=TRANSPOSE_VALID if fits_format(text) else TRANSPOSE,
        far=far,
    )


def row_of(text: str, plate: str) -> bool:
    """Whether `text` is the bottom row of `plate` read alone: its serial, four characters
    or more, the province and series (two or more characters) lost."""
    return len(text) >= ROW_MIN and plate.endswith(text) and text.isascii()


@lru_cache(maxsize=65_536)
def text_cost(text: str, plate: str) -> float:
    """What a read spelling `text` (normalised; no confidences, no runner-up) costs under
    "the truck's plate is `plate`", priced as the matcher's evidence rule prices one read
    (`read_price`, its rows put back in order at ROWS_SWAPPED), but every distance priced
    edit by edit: neither the matcher's cap on one read (`lanes.matching.READ_CAP`) nor
    `FAR_APART`, so that two mistakes still cost less than three (the risk alerts' exit
    reads, `lanes.alerts.passes`)."""
    cost = read_price(text, plate, swaps=True, far=True)
    fixed = rows_swapped(text)
    if fixed is not None:
        cost = min(cost, read_price(fixed, plate, swaps=True, penalty=ROWS_SWAPPED, far=True))
    return cost


_PARTNERS: dict[str, tuple[str, ...]] = {}
for _read, _true in LOOKALIKE_PAIRS:
    _PARTNERS[_read] = (*_PARTNERS.get(_read, ()), _true)


@lru_cache(maxsize=4096)
def stranger_plates(reads: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    """The plates "a truck with no manifest" may carry given what its reads spell (each
    read's normalised texts, top text first): each text that fits a plate format; for a read
    none of whose texts fits one, each plate one look-alike or one stray character from its
    top text (what a read that fits no format was most likely read from)."""
    found: dict[str, None] = {}
    for texts in reads:
        fitting = [t for t in texts if fits_format(t)]
        if fitting:
            found.update(dict.fromkeys(fitting))
            continue
        text = texts[0]
        for i, ch in enumerate(text):
            for other in _PARTNERS.get(ch, ()):
                fixed = text[:i] + other + text[i + 1 :]
                if fits_format(fixed):
                    found.setdefault(fixed)
            dropped = text[:i] + text[i + 1 :]
            if fits_format(dropped):
                found.setdefault(dropped)
    return tuple(found)


def corroboration(manifest: Manifest, reads: Sequence[PlateRead]) -> str | None:
    """What else the truck carries that agrees with `manifest`, in words, or None: a
    declared container read with a valid check digit, or a trailer plate read close to the
    declared one."""
    declared = set(manifest.containers)
    for read in reads:
        for number in read.container_numbers:
            text = normalise_container(number)
            if text in declared and is_valid_container(text):
                return f"container {text} declared"
    trailer = manifest.trailer_plate
    if trailer:
        for read in reads:
            text = normalise_plate(read.plate_text)
            if (
                text
                and text != manifest.tractor_plate
                and plate_cost(text, trailer, read.char_confidences) <= TRAILER_AGREES
            ):
                return f"trailer {trailer} read as {text}"
    return None
