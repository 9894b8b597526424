"""A labelled set for measuring plate-to-manifest matching: open manifests (with near-twin
plates), the trucks behind them and trucks with none, and single plate reads carrying
0, 1 or 2 OCR errors whose kinds are recorded.

Pure and deterministic: everything is drawn from one `random.Random(seed)` and the times
from `start`; the same arguments give the same set, read for read.

An OCR error is one of `ErrorKind`: a look-alike swapped (`LOOKALIKE`: B/8, S/5, 3/8...),
a serial character replaced by another of its class (`SUBSTITUTION`), a character lost
(`DROPPED`), and, on a Chinese plate, the province character lost (`PROVINCE_LOST`) or read
as another province (`PROVINCE_WRONG`). Per-character confidences behave like a real OCR
model's: high on correct characters, lower (but not always low) on wrong ones.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from lanes.model import Candidate, CustomsStatus, Direction, Manifest, PlateRead
from lanes.plates import CN_PROVINCES, normalise_plate, parse_plate
from lanes.similarity import LOOKALIKE_PAIRS
from services.simulation.cargo import random_manifest
from services.simulation.plates import alternatives, cn_plate, vn_plate


class ErrorKind(StrEnum):
    LOOKALIKE = "lookalike"
    SUBSTITUTION = "substitution"
    DROPPED = "dropped"
    PROVINCE_LOST = "province_lost"
    PROVINCE_WRONG = "province_wrong"


# The confusions plate OCR makes: the matcher's own table (lanes.similarity), which flatters
# the matcher on look-alike errors (the bench says so).
LOOKALIKES: dict[str, str] = {}
for _x, _y in LOOKALIKE_PAIRS:
    LOOKALIKES[_x] = LOOKALIKES.get(_x, "") + _y
# Near-twin plates: serials one look-alike digit apart.
TWIN_DIGITS: dict[str, str] = {
    "3": "8",
    "8": "360",
    "6": "85",
    "1": "7",
    "7": "1",
    "5": "6",
    "0": "8",
}

_CN_LETTERS = "".join(ch for ch in string.ascii_uppercase if ch not in "IO")
_PROVINCES = "".join(sorted(CN_PROVINCES))
_KINDS_CN = (
    ErrorKind.LOOKALIKE,
    ErrorKind.SUBSTITUTION,
    ErrorKind.DROPPED,
    ErrorKind.PROVINCE_LOST,
    ErrorKind.PROVINCE_WRONG,
)
_WEIGHTS_CN = (60, 15, 10, 10, 5)
_KINDS_VN, _WEIGHTS_VN = _KINDS_CN[:3], (75, 15, 10)


@dataclass(frozen=True, slots=True)
class SimTruck:
    """One truck's ground truth: its normalised tractor plate and its manifest, if any.
    `twin` is the plate of its near-twin (another truck's plate one serial digit away)."""

    plate: str
    direction: Direction
    manifest_id: str | None
    twin: str | None = None


@dataclass(frozen=True, slots=True)
class LabelledRead:
    read: PlateRead
    truck: SimTruck
    errors: tuple[ErrorKind, ...]


@dataclass(frozen=True, slots=True)
class MatchingSet:
    manifests: tuple[Manifest, ...]
    trucks: tuple[SimTruck, ...]  # the manifests' trucks first, in manifest order
    reads: tuple[LabelledRead, ...]


def printed_forms(plate: str) -> tuple[str, ...]:
    """The ways cameras print a (normalised, valid) plate: `29H-123.45`, `29H 12345`,
    `桂A·12345`...; all normalise back to `plate`."""
    parsed = parse_plate(plate)
    if parsed.province is None or parsed.series is None:
        return (plate,)
    head = plate[: len(parsed.province) + len(parsed.series)]
    serial = plate[len(head) :]
    if parsed.province.isascii():
        dotted = f"{serial[:3]}.{serial[3:]}" if len(serial) == 5 else serial
        return (f"{head}-{dotted}", plate, f"{head} {dotted}", f"{head}-{serial}")
    return (f"{head}·{serial}", plate, f"{head} {serial}")


def serial_start(plate: str) -> int:
    """Where a normalised plate's serial begins (after province and series)."""
    parsed = parse_plate(plate)
    return len(parsed.province or "") + len(parsed.series or "")


def twin_plate(plate: str, rng: random.Random, *, lookalike: bool) -> str:
    """`plate` with one serial digit changed: to a look-alike digit (3/8, 6/8, 1/7, 5/6, 0/8)
    when `lookalike` and the serial has one, else to an arbitrary other digit."""
    start = serial_start(plate)
    digits = [i for i in range(start, len(plate)) if plate[i].isdigit()]
    pairs = [i for i in digits if plate[i] in TWIN_DIGITS]
    if lookalike and pairs:
        i = rng.choice(pairs)
        new = rng.choice(TWIN_DIGITS[plate[i]])
    else:
        i = rng.choice(digits)
        new = rng.choice([d for d in string.digits if d != plate[i]])
    return plate[:i] + new + plate[i + 1 :]


def misread(
    printed: str, rng: random.Random, *, errors: int
) -> tuple[str, tuple[float, ...], tuple[ErrorKind, ...]]:
    """`printed` read with `errors` OCR errors, on distinct characters: the read text (in
    the printed form), one confidence per character of its normalised text, the kinds."""
    chars = list(printed)
    ok = [True] * len(chars)
    is_cn = not printed.strip()[0].isascii()
    plate = normalise_plate(printed)
    serial_from = serial_start(plate)
    alnum = [i for i, ch in enumerate(chars) if ch.isalnum()]
    serial = set(alnum[serial_from:])
    kinds: list[ErrorKind] = []
    while len(kinds) < errors:
        kind = rng.choices(
            _KINDS_CN if is_cn else _KINDS_VN, weights=_WEIGHTS_CN if is_cn else _WEIGHTS_VN
        )[0]
        if _apply(kind, chars, ok, serial, rng):
            kinds.append(kind)
    confidences = []
    for ch, right in zip(chars, ok, strict=True):
        if ch and ch.isalnum():
            confidences.append(round(_char_confidence(rng, right=right), 3))
    text = "".join(chars)
    if len(normalise_plate(text)) != len(confidences):  # pragma: no cover - a logic error
        raise AssertionError(f"confidences misaligned for {text!r}")
    return text, tuple(confidences), tuple(kinds)


def _apply(
    kind: ErrorKind, chars: list[str], ok: list[bool], serial: set[int], rng: random.Random
) -> bool:
    """Applies one error in place on a still-correct character; False if none fits."""
    live = [i for i, ch in enumerate(chars) if ch and ch.isalnum() and ok[i]]
    latin = [i for i in live if chars[i].isascii()]
    if kind is ErrorKind.LOOKALIKE:
        where = [i for i in latin if chars[i] in LOOKALIKES]
        if not where:
            return False
        i = rng.choice(where)
        chars[i] = rng.choice(LOOKALIKES[chars[i]])
    elif kind is ErrorKind.SUBSTITUTION:
        where = [i for i in latin if i in serial]
        if not where:
            return False
        i = rng.choice(where)
        pool = string.digits if chars[i].isdigit() else _CN_LETTERS
        chars[i] = rng.choice([c for c in pool if c != chars[i]])
    elif kind is ErrorKind.DROPPED:
        if not latin:
            return False
        i = rng.choice(latin)
        chars[i] = ""
    else:
        where = [i for i in live if not chars[i].isascii()]
        if not where:
            return False
        i = where[0]
        if kind is ErrorKind.PROVINCE_LOST:
            chars[i] = ""
        else:
            chars[i] = rng.choice([p for p in _PROVINCES if p != chars[i]])
    ok[i] = False
    return True


def _char_confidence(rng: random.Random, *, right: bool) -> float:
    if not right:
        return rng.uniform(0.3, 0.85)
    if rng.random() < 0.05:
        return rng.uniform(0.5, 0.85)
    return rng.uniform(0.85, 0.999)


def labelled_read(
    rng: random.Random, truck: SimTruck, *, event_id: str, camera_id: str, captured_at: datetime
) -> LabelledRead:
    """One read of `truck`'s plate: 0 (70%), 1 (20%) or 2 (10%) errors, a printed form and
    occasionally lower case, per-character confidences on half the reads, and candidates
    (the read first; for a misread, half the time the true plate second; then 0-2
    look-alike alternatives of the read)."""
    errors = rng.choices((0, 1, 2), weights=(70, 20, 10))[0]
    printed = rng.choice(printed_forms(truck.plate))
    text, char_confidences, kinds = misread(printed, rng, errors=errors)
    if rng.random() < 0.05:
        text = text.lower()
    confidence = min(char_confidences)
    candidates = [Candidate(text, confidence)]
    if errors and rng.random() < 0.5:
        candidates.append(Candidate(printed, round(confidence * rng.uniform(0.3, 0.9), 3)))
    avoid = {normalise_plate(text), truck.plate}
    for alt in alternatives(text, rng, count=rng.randint(0, 2), avoid=avoid):
        candidates.append(
            Candidate(alt, round(candidates[-1].confidence * rng.uniform(0.5, 0.95), 3))
        )
    read = PlateRead(
        event_id=event_id,
        camera_id=camera_id,
        captured_at=captured_at,
        plate_text=text,
        confidence=confidence,
        candidates=tuple(candidates),
        char_confidences=char_confidences if rng.random() < 0.5 else None,
    )
    return LabelledRead(read, truck, kinds)


def matching_set(
    *,
    seed: int,
    manifests: int,
    reads: int,
    start: datetime,
    cameras: dict[Direction, tuple[str, ...]],
    twin_share: float = 0.04,
    unknown_share: float = 0.15,
) -> MatchingSet:
    """`manifests` open manifests (60% Vietnamese tractors exporting, 40% Chinese importing;
    85% with a trailer; all cleared, windows covering the reads), a share `twin_share` of
    them with a near-twin manifest (counted in `manifests`), and `reads` reads: a share
    `unknown_share` from trucks with no manifest, the rest from the manifests' trucks."""
    rng = random.Random(seed)
    used: set[str] = set()
    trucks: list[SimTruck] = []
    twins = round(manifests * twin_share)
    while len(trucks) < manifests - twins:
        plate = _fresh_plate(rng, used)
        trucks.append(SimTruck(plate, _plate_direction(plate), None))
    for k in range(twins):  # spread over the originals; half look-alike, half arbitrary
        at = k * (manifests - twins) // twins
        original = trucks[at]
        plate = twin_plate(original.plate, rng, lookalike=k % 2 == 0)
        while plate in used:
            plate = twin_plate(original.plate, rng, lookalike=False)
        used.add(plate)
        trucks[at] = replace(original, twin=plate)
        trucks.append(SimTruck(plate, original.direction, None, twin=original.plate))
    trucks = [replace(t, manifest_id=f"MF-{seed}-{n:05d}") for n, t in enumerate(trucks, 1)]
    arrival = {t.plate: start + timedelta(minutes=rng.uniform(0, 24 * 60)) for t in trucks}
    declared = tuple(_manifest(rng, t, arrival[t.plate]) for t in trucks)
    unknown_count = max(1, round(manifests * unknown_share / (1 - unknown_share)))
    strangers = []
    for _ in range(unknown_count):
        plate = _fresh_plate(rng, used)
        strangers.append(SimTruck(plate, _plate_direction(plate), None))
        arrival[plate] = start + timedelta(minutes=rng.uniform(0, 24 * 60))
    labelled = []
    for n in range(1, reads + 1):
        pool = strangers if rng.random() < unknown_share else trucks
        truck = rng.choice(pool)
        labelled.append(
            labelled_read(
                rng,
                truck,
                event_id=f"R-{seed}-{n:06d}",
                camera_id=rng.choice(cameras[truck.direction]),
                captured_at=arrival[truck.plate] + timedelta(seconds=rng.uniform(-300, 1800)),
            )
        )
    return MatchingSet(declared, (*trucks, *strangers), tuple(labelled))


def _plate_direction(plate: str) -> Direction:
    return Direction.EXPORT if plate[0].isascii() else Direction.IMPORT


def _fresh_plate(rng: random.Random, used: set[str]) -> str:
    """A tractor plate (60% Vietnamese, 40% Chinese) not in `used`; added to it."""
    while True:
        plate = (vn_plate(rng) if rng.random() < 0.6 else cn_plate(rng)).text
        if plate not in used:
            used.add(plate)
            return plate


def _manifest(rng: random.Random, truck: SimTruck, arrival: datetime) -> Manifest:
    trailer = None
    if rng.random() < 0.85:
        if truck.direction is Direction.EXPORT:
            trailer = vn_plate(rng, series="R", province=truck.plate[:2]).text
        else:
            trailer = cn_plate(rng, trailer=True).text
    assert truck.manifest_id is not None
    manifest = random_manifest(
        rng,
        manifest_id=truck.manifest_id,
        direction=truck.direction,
        tractor_plate=truck.plate,
        trailer_plate=trailer,
        arrival=arrival,
    )
    return replace(manifest, customs_status=CustomsStatus.CLEARED)
