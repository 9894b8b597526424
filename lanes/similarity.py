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

SUBSTITUTE = 1.0  # any other character for another
INDEL = 1.0  # a character lost or added
PROVINCE_LOST = 0.35  # the Chinese province character not read at all
PROVINCE_WRONG = 0.45  # another province character read in its place

# The look-alike classes for index keys (each character maps to its class representative).
_FOLD = str.maketrans(
    {
        "O": "0",
        "D": "0",
        "Q": "0",
        "U": "0",
        "I": "1",
        "L": "1",
        "J": "1",
        "T": "1",
        "7": "1",
        "B": "8",
        "3": "8",
        "6": "8",
        "9": "8",
        "G": "8",
        "S": "5",
        "Z": "2",
        "A": "4",
        "C": "8",
        "M": "H",
        "N": "H",
        "X": "K",
        "Y": "V",
        "F": "E",
        "R": "P",
    }
)


def is_cjk(char: str) -> bool:
    return not char.isascii()


def substitution_cost(read: str, true: str) -> float:
    if read == true:
        return 0.0
    if is_cjk(read) and is_cjk(true):
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


def plate_cost(read: str, plate: str, confidences: Sequence[float] | None = None) -> float:
    """Weighted edit distance from the declared `plate` to the `read` text (both normalised).

    `confidences`, one per character of `read`, scale what overruling a character costs:
    a character read at 0.99 costs 1.5x the table's price, one read at 0.5 half of it.
    """
    if read == plate:
        return 0.0
    weights = _weights(read, confidences)
    head = 0.0
    # A Chinese plate's province character, lost or misread, is priced on its own.
    if plate and is_cjk(plate[0]):
        if read and is_cjk(read[0]):
            if read[0] != plate[0]:
                head = PROVINCE_WRONG * weights[0]
            read, weights, plate = read[1:], weights[1:], plate[1:]
        else:
            head, plate = PROVINCE_LOST, plate[1:]
    elif read and is_cjk(read[0]) and plate and not is_cjk(plate[0]):
        head = INDEL * weights[0]  # a province character read onto a plate that has none
        read, weights = read[1:], weights[1:]
    if len(read) == len(plate):
        return head + min(
            _hamming(read, plate, weights), _edit(read, plate, weights, cap=_CAP_SAME_LENGTH)
        )
    return head + _edit(read, plate, weights, cap=None)


_CAP_SAME_LENGTH = 2.0  # beyond this two reads of one length are far apart either way


def _weights(read: str, confidences: Sequence[float] | None) -> list[float]:
    if confidences is None or len(confidences) != len(read):
        return [1.0] * len(read)
    return [0.5 + min(max(c, 0.0), 1.0) for c in confidences]


def _hamming(read: str, plate: str, weights: Sequence[float]) -> float:
    total = 0.0
    for r, p, w in zip(read, plate, weights, strict=True):
        if r != p:
            total += substitution_cost(r, p) * w
    return total


def _edit(read: str, plate: str, weights: Sequence[float], *, cap: float | None) -> float:
    """Weighted Levenshtein (read -> plate); with `cap`, gives up early above it."""
    if cap is not None and abs(len(read) - len(plate)) * INDEL >= cap:
        return cap
    previous = [float(j) * INDEL for j in range(len(plate) + 1)]
    for i, r in enumerate(read, start=1):
        w = weights[i - 1]
        current = [previous[0] + INDEL * w]
        for j, p in enumerate(plate, start=1):
            sub = previous[j - 1] + (0.0 if r == p else substitution_cost(r, p) * w)
            current.append(min(sub, previous[j] + INDEL * w, current[j - 1] + INDEL))
        if cap is not None and min(current) >= cap:
            return cap
        previous = current
    return previous[-1]
