"""From the OCR's per-slot probabilities to a plate read: the top-1 text, a per-character
confidence for each character of it, the best alternative texts (a small beam search over
the slots) and the plate's country. Multi-frame voting averages the slot probabilities of
several frames of one vehicle before decoding, so one clear frame outvotes a blurred one.
Pure numpy; no model here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from lanes.plates import Country, PlateKind, normalise_plate, parse_plate
from plate_recognition.alphabet import ALPHABET, PAD

_PAD_INDEX = ALPHABET.index(PAD)


@dataclass(frozen=True, slots=True)
class PlateReading:
    """One plate's read. `text` is normalised (`lanes.plates.normalise_plate`);
    `char_confidences` has one value per character of it; `candidates` are the best texts
    after it, with their probabilities; `bbox` is x1, y1, x2, y2 in frame pixels."""

    text: str
    confidence: float
    char_confidences: tuple[float, ...]
    candidates: tuple[tuple[str, float], ...]
    country: str
    bbox: tuple[float, float, float, float]
    detection_confidence: float
    slot_probs: np.ndarray = field(repr=False, compare=False)
    frames: int = 1


def _significant(p: float) -> float:
    """4 significant digits: a plate's probability (a product over slots) can be small, and
    the matcher compares a candidate's with the top read's, so it must not round to 0."""
    return float(f"{p:.4g}")


def _decode(indices: Sequence[int]) -> str:
    return "".join(ALPHABET[i] for i in indices if i != _PAD_INDEX)


def beam(slot_probs: np.ndarray, width: int = 6, per_slot: int = 3) -> list[tuple[str, float]]:
    """The most probable distinct texts (pads removed), best first, with probabilities
    (slots taken as independent)."""
    top = np.argsort(-slot_probs, axis=1)[:, :per_slot]
    beams: list[tuple[float, list[int]]] = [(0.0, [])]
    for slot, choices in enumerate(top):
        grown = [
            (score + float(np.log(max(slot_probs[slot, c], 1e-12))), [*path, int(c)])
            for score, path in beams
            for c in choices
        ]
        grown.sort(key=lambda item: -item[0])
        beams = grown[: width * 2]
    texts: dict[str, float] = {}
    for score, path in beams:
        text = _decode(path)
        texts[text] = texts.get(text, 0.0) + float(np.exp(score))
    ranked = sorted(texts.items(), key=lambda item: -item[1])
    return ranked[:width]


def reading_from_probs(
    slot_probs: np.ndarray,
    *,
    bbox: tuple[float, float, float, float],
    detection_confidence: float,
    frames: int = 1,
    alternatives: int = 4,
) -> PlateReading:
    """Decode one plate's slot probabilities (slots x alphabet)."""
    best = slot_probs.argmax(axis=1)
    text = normalise_plate(_decode(best.tolist()))
    char_confidences = tuple(
        round(float(slot_probs[slot, index]), 4)
        for slot, index in enumerate(best)
        if index != _PAD_INDEX
    )
    confidence = float(np.prod(slot_probs[np.arange(len(best)), best]))
    ranked = beam(slot_probs, width=alternatives + 1)
    candidates = tuple((t, _significant(p)) for t, p in ranked if normalise_plate(t) != text and t)[
        :alternatives
    ]
    return PlateReading(
        text=text,
        confidence=_significant(confidence),
        char_confidences=char_confidences,
        candidates=candidates,
        country=str(parse_plate(text).country),
        bbox=bbox,
        detection_confidence=round(detection_confidence, 4),
        slot_probs=slot_probs,
        frames=frames,
    )


def vote(readings: Sequence[PlateReading]) -> PlateReading:
    """One read from several frames of the same plate: mean slot probabilities, weighted by
    each frame's detection confidence; the box of the most confident detection."""
    if not readings:
        raise ValueError("vote() needs at least one reading")
    weights = np.array([max(r.detection_confidence, 1e-3) for r in readings])
    stacked = np.stack([r.slot_probs for r in readings])
    mean = np.tensordot(weights / weights.sum(), stacked, axes=1)
    anchor = max(readings, key=lambda r: r.detection_confidence)
    return reading_from_probs(
        mean,
        bbox=anchor.bbox,
        detection_confidence=anchor.detection_confidence,
        frames=sum(r.frames for r in readings),
    )


# A frame's further plates (past its first) must read as plates: the text of a known
# plate format, read at least this confidently. The frame detector sends the OCR about one
# board of text in ten frames (container codes, phone numbers, signs); published, such a
# read would open a visit no truck made. Chosen on rendered 1080p frames (seeds 5,100,000..
# and 5,500,000.., docs/recognition.md): of the 12 further reads of 150 one-plate frames
# none passes (confidence 0.002-0.31 or no plate's format), of the 48 second plates found
# in 50 two-plate frames 47 do; on other seeds, 1 board in 150 one-plate frames passes.
FURTHER_PLATE_MIN_CONFIDENCE = 0.2


def frame_plates(readings: Sequence[PlateReading]) -> list[PlateReading]:
    """The distinct plates of one frame from its reads, most confident detection first
    (`PlateRecognizer.read`): the first read with a text, as it is, then each further read
    that reads as another plate (a text of a known plate format, read with confidence
    `FURTHER_PLATE_MIN_CONFIDENCE` or more, not the text of a plate already kept), unless
    it or the first is a trailer's plate."""
    kept: list[PlateReading] = []
    for reading in readings:
        if not reading.text or any(k.text == reading.text for k in kept):
            continue
        if kept and (
            reading.confidence < FURTHER_PLATE_MIN_CONFIDENCE
            or parse_plate(reading.text).country == Country.UNKNOWN
            or _trailer(reading.text)
            or _trailer(kept[0].text)
        ):
            continue
        kept.append(reading)
    return kept


def _trailer(text: str) -> bool:
    """A trailer's plate (`29R01234`, `桂A1234挂`): in a frame with another plate it is most
    likely its tractor's trailer, the same truck. The visits are grouped by plate and the
    matcher prices a read against a manifest's trailer plate too, so published apart the
    two plates opened two visits of one manifest, each decided (found 2026-12-06, before
    release): with a trailer's plate in it, a frame gives its first read only, as before."""
    return parse_plate(text).kind is PlateKind.TRAILER


# Two frames of one trigger burst read the same plate when their texts are this many edits
# apart or fewer (a blurred frame misreads a character or two; the vote then outvotes it).
# Two trucks' plates differ in more: a camera's burst that caught the next truck behind the
# first gives two plates, not one text voted out of both.
BURST_SAME_PLATE_EDITS = 2


def edits(a: str, b: str) -> int:
    """Levenshtein distance: characters inserted, deleted or replaced to turn `a` into `b`."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def burst_plates(readings: Sequence[PlateReading]) -> list[PlateReading]:
    """The plates of a trigger burst from each frame's best read: the frames are grouped by
    plate, each group voted into one read (`vote`), the group seen in the most frames first
    (then the most confidently read); then, as for the plates of one frame
    (`frame_plates`), a further plate must read as a plate and not be a trailer's.

    A read at `FURTHER_PLATE_MIN_CONFIDENCE` or more starts a group of its own unless its
    text is `BURST_SAME_PLATE_EDITS` edits or fewer from a group's first (most confident
    detection first); a read under it (a blurred frame) joins the group nearest its text,
    where it votes as it always did. So a burst of one vehicle gives its one voted read, as
    a camera's burst promises, and one that caught a second truck gives that truck's read
    too, instead of a text voted out of both plates. A frame that read no text votes for
    none."""
    texts = [r for r in readings if r.text]
    sure = [r for r in texts if r.confidence >= FURTHER_PLATE_MIN_CONFIDENCE]
    groups: list[list[PlateReading]] = []
    for reading in sorted(sure, key=lambda r: -r.detection_confidence):
        group = next(
            (g for g in groups if edits(g[0].text, reading.text) <= BURST_SAME_PLATE_EDITS), None
        )
        if group is None:
            groups.append([reading])
        else:
            group.append(reading)
    for reading in sorted(
        (r for r in texts if r.confidence < FURTHER_PLATE_MIN_CONFIDENCE),
        key=lambda r: -r.detection_confidence,
    ):
        if groups:
            min(groups, key=lambda g: edits(g[0].text, reading.text)).append(reading)
        else:
            groups.append([reading])
    groups.sort(key=lambda g: (-len(g), -sum(r.confidence for r in g)))
    return frame_plates([vote(g) for g in groups])
