"""How far a read is from a plate, in the currency of OCR mistakes.

`plate_cost(read, plate)` is a weighted edit distance on normalised text: a look-alike
swap an OCR model makes all the time (O/0, I/1, B/8, S/5, Z/2, D/0) costs little, a
digit-for-digit look-alike (3/8, 6/8, 1/7) more, any other substitution, a lost or an
extra character a full 1.0. A Chinese plate's province character is the hardest for OCR:
losing it or reading another province costs less than a lost serial character. Per-character
confidences, when the camera sends them, make a confident character dearer to overrule.

`index_keys(plate)` and `query_keys(text)` make candidate search an index look-up: a key is
the plate with look-alikes folded to one class and non-Latin characters dropped, plus every
one-character deletion of it. Two texts within one edit (after folding) share a key.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

# Look-alike pairs, symmetric, with the cost of reading one for the other.
_CHEAP = 0.2  # letter <-> digit look-alikes: the serial's format usually gives them away
_MEDIUM = 0.45  # same-class look-alikes
_PAIRS: dict[tuple[str, str], float] = {}
for _a, _b, _cost in (
    ("O", "0", _CHEAP),
    ("D", "0", _CHEAP),
    ("Q", "0", _CHEAP),
    ("U", "0", _MEDIUM),
    ("I", "1", _CHEAP),
    ("L", "1", _MEDIUM),
    ("T", "1", _MEDIUM),
    ("J", "1", _MEDIUM),
    ("B", "8", _CHEAP),
    ("S", "5", _CHEAP),
    ("Z", "2", _CHEAP),
    ("G", "6", _CHEAP),
    ("A", "4", _CHEAP),
    ("T", "7", _CHEAP),
    ("8", "3", _MEDIUM),
    ("8", "6", _MEDIUM),
    ("8", "9", _MEDIUM),
    ("8", "0", _MEDIUM),
    ("5", "6", _MEDIUM),
    ("1", "7", _MEDIUM),
    ("O", "D", _MEDIUM),
    ("O", "Q", _MEDIUM),
    ("C", "G", _MEDIUM),
    ("H", "M", _MEDIUM),
    ("H", "N", _MEDIUM),
    ("K", "X", _MEDIUM),
    ("V", "Y", _MEDIUM),
    ("E", "F", _MEDIUM),
    ("P", "R", _MEDIUM),
):
    _PAIRS[_a, _b] = _PAIRS[_b, _a] = _cost

# every (read, true) look-alike pair, both ways round, in the table's order
LOOKALIKE_PAIRS: tuple[tuple[str, str], ...] = tuple(_PAIRS)

SUBSTITUTE = 1.0  # any other character for another
INDEL = 1.0  # a character lost or added
MISSING_INVALID = 0.55  # a character lost from a read that fits no plate format
PROVINCE_LOST = 0.35  # the Chinese province character not read at all
PROVINCE_WRONG = 0.45  # another province character read in its place

# The version of `fold` and `index_keys`: keys stored by an older version are rebuilt at
# start-up (services.db.manifests.rebuild_plate_keys), so bump it with any change to them.
KEY_SCHEME = 1

# The letter <-> digit look-alike classes, folded for index keys (digit <-> digit look-alikes
# stay apart: folding them too would merge most serials; one edit is found anyway).
_FOLD = str.maketrans(
    {
        "O": "0",
        "D": "0",
        "Q": "0",
        "I": "1",
        "B": "8",
        "S": "5",
        "Z": "2",
        "G": "6",
        "A": "4",
        "T": "7",
    }
)


def substitution_cost(read: str, true: str) -> float:
    if read == true:
        return 0.0
    if not read.isascii() and not true.isascii():
        return PROVINCE_WRONG
    return _PAIRS.get((read, true), SUBSTITUTE)


def fold(text: str) -> str:
    """`text` (normalised) with look-alikes folded and non-Latin characters dropped."""
    return "".join(ch for ch in text if ch.isascii()).translate(_FOLD)


@lru_cache(maxsize=65_536)
def index_keys(plate: str) -> frozenset[str]:
    """The keys a declared plate (normalised) is filed under: its folded form and every
    one-character deletion of it. Empty for a plate with no Latin character."""
    folded = fold(plate)
    if not folded:
        return frozenset()
    return frozenset((folded, *(folded[:i] + folded[i + 1 :] for i in range(len(folded)))))


def query_keys(text: str) -> frozenset[str]:
    """The keys to look a read (normalised) up under; the same set as `index_keys`."""
    return index_keys(text)


def folded_key(text: str) -> str:
    """The first of a read's keys: what finds plates equal to it up to look-alikes (and plates
    it lacks one character of). The others (`near_keys`) find plates one edit further."""
    return fold(text)


def near_keys(text: str) -> frozenset[str]:
    return index_keys(text) - {fold(text)}


# What any plate found only by `near_keys` costs at least, per unit of the read's lightest
# character weight: its one edit is not a folded look-alike, so at best a digit look-alike.
NEAR_FLOOR = 0.45


def plate_cost(
    read: str,
    plate: str,
    confidences: Sequence[float] | None = None,
    *,
    missing: float = INDEL,
    weights: Sequence[float] | None = None,
    swaps: bool = False,
) -> float:
    """Weighted edit distance from the declared `plate` to the `read` text (both normalised).

    `confidences`, one per character of `read`, scale what overruling a character costs
    (`char_weights`; or pass the `weights` computed once for many plates). Texts two or more
    characters apart in length cost `FAR_APART` without further ado.
    `missing` prices a plate character the read lacks (cheaper, `MISSING_INVALID`, when the
    read fits no plate format: then it surely lost something).
    `swaps` prices two adjacent characters read in each other's place as one edit
    (`TRANSPOSE`) rather than two substitutions.
    """
    if read == plate:
        return 0.0
    if weights is None:
        weights = char_weights(read, confidences)
    head = 0.0
    # A Chinese plate's province character, lost or misread, is priced on its own.
    if plate and not plate[0].isascii():
        if read and not read[0].isascii():
            if read[0] != plate[0]:
                head = PROVINCE_WRONG  # OCR's confidence in a CJK character tells little
            read, plate = read[1:], plate[1:]
            weights = weights[1:] if weights is not None else None
        else:
            head, plate = PROVINCE_LOST, plate[1:]
    elif read and not read[0].isascii():
        # a province character read onto a plate that has none
        head = INDEL * (1.0 if weights is None else weights[0])
        read = read[1:]
        weights = weights[1:] if weights is not None else None
    gap = len(read) - len(plate)
    if gap == 0:
        if swaps:
            return head + _hamming_swaps(read, plate, weights)
        return head + _hamming(read, plate, weights)
    if abs(gap) == 1:
        return head + _edit(read, plate, weights, missing)
    return head + FAR_APART


FAR_APART = 2.0  # the cost of texts two or more characters apart in length
# A character read with confidence c costs (WEIGHT_FLOOR + WEIGHT_SLOPE * c**2) times the
# table's price to overrule: 0.44x at 0.3, 0.68x at 0.5, 1.38x at 0.85, 1.77x at 0.99.
# (Tuned on bench/matching.py's seed 2; the README reports seed 1.)
WEIGHT_FLOOR = 0.3
WEIGHT_SLOPE = 1.5


def char_weights(read: str, confidences: Sequence[float] | None) -> list[float] | None:
    """What overruling each character of `read` costs, times the table's price; None (all
    1.0) without confidences or with the wrong number of them."""
    if confidences is None or len(confidences) != len(read):
        return None
    floor, slope = WEIGHT_FLOOR, WEIGHT_SLOPE  # confidences are in [0, 1] (checked at the wire)
    return [floor + slope * c * c for c in confidences]


def _hamming(read: str, plate: str, weights: Sequence[float] | None) -> float:
    total = 0.0
    pairs = _PAIRS
    if weights is None:
        for r, p in zip(read, plate, strict=True):
            if r != p:
                total += pairs.get((r, p), SUBSTITUTE)
    else:
        for r, p, w in zip(read, plate, weights, strict=True):
            if r != p:
                total += pairs.get((r, p), SUBSTITUTE) * w
    return total


TRANSPOSE = 1.0  # two adjacent characters read in each other's place (issue 19)


def _hamming_swaps(read: str, plate: str, weights: Sequence[float] | None) -> float:
    """`_hamming`, with an adjacent transposition priced as one edit when that is cheaper."""
    total = 0.0
    pairs = _PAIRS
    n = len(read)
    i = 0
    while i < n:
        r, p = read[i], plate[i]
        if r != p:
            w = 1.0 if weights is None else weights[i]
            price = pairs.get((r, p), SUBSTITUTE) * w
            if i + 1 < n and read[i + 1] == p and plate[i + 1] == r:
                w2 = 1.0 if weights is None else weights[i + 1]
                if TRANSPOSE * max(w, w2) < price + pairs.get((p, r), SUBSTITUTE) * w2:
                    total += TRANSPOSE * max(w, w2)
                    i += 2
                    continue
            total += price
        i += 1
    return total


def _edit(read: str, plate: str, weights: Sequence[float] | None, missing: float) -> float:
    """The cheapest alignment of texts one character apart in length with one character lost
    (`missing`) or added (`INDEL`, weighted) and substitutions elsewhere: prefix and suffix
    sums, O(n). (Alignments with more indels cost at least two and are never a match.)"""
    w = weights if weights is not None else [1.0] * len(read)
    short, long_ = (read, plate) if len(read) < len(plate) else (plate, read)
    n = len(short)

    def sub(i: int, j: int) -> float:
        r, p = (short[i], long_[j]) if short is read else (long_[j], short[i])
        if r == p:
            return 0.0
        return substitution_cost(r, p) * w[i if short is read else j]

    prefix = [0.0] * (n + 1)
    for i in range(n):
        prefix[i + 1] = prefix[i] + sub(i, i)
    suffix = [0.0] * (n + 1)
    for i in range(n - 1, -1, -1):
        suffix[i] = suffix[i + 1] + sub(i, i + 1)
    # long_[k] is the character only the longer text has
    gap = [missing] * (n + 1) if short is read else [INDEL * w[k] for k in range(n + 1)]
    return min(prefix[k] + gap[k] + suffix[k] for k in range(n + 1))
