"""A visit's plate reads -> the manifest of the truck, tolerating OCR mistakes, never guessing.

Every text a read carries (its plate text and each candidate, with their confidences) is
priced against each candidate manifest's tractor and trailer plate (`lanes.similarity`); a
read's cost for a manifest is its cheapest text, and a visit's cost is the mean over its
readable reads. The truck is the tractor plate: several manifests of one tractor plate are
one truck with several declarations, told apart by direction and crossing window, never by
the OCR. The best truck must be close (`MATCH_MAX`) and clear of the runner-up (`MARGIN`),
otherwise the visit is `unknown` or `ambiguous`. A truck once identified is checked against
its manifest: direction, trailer and containers (`mismatch`), customs (`not_cleared`) and
window (`outside_window`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple, Protocol

from lanes.containers import is_valid_container, normalise_container
from lanes.model import (
    CustomsStatus,
    Direction,
    Manifest,
    MatchOutcome,
    MatchResult,
    PlateRead,
    ScoredManifest,
)
from lanes.plates import PlateKind, may_be_trailer, normalise_plate, parse_plate
from lanes.similarity import (
    INDEL,
    MISSING_INVALID,
    NEAR_FLOOR,
    char_weights,
    folded_key,
    index_keys,
    near_keys,
    plate_cost,
    query_keys,
)

MATCH_MAX = 0.7  # the most a visit's mean cost may be for its plate to count as read
MARGIN = 0.35  # the least the runner-up truck's cost must exceed the best one's by
FAR = 1.0  # the cost assumed for a truck the index did not propose (at least one edit away)
READ_CAP = 2.0  # one hopeless read cannot outweigh the others without limit
CANDIDATE_BASE = 0.25  # the price of believing a read's runner-up text over its top one
CANDIDATE_SLOPE = 0.3  # ... plus this times ln(top confidence / candidate confidence)
WRONG_WAY = 0.3  # added to a manifest's cost when it declares the other direction
OFF_WINDOW = 0.25  # ... and when the read falls outside its crossing window
OFF_WINDOW_FAR = 0.45  # ... by more than FAR_OFF_WINDOW
FAR_OFF_WINDOW = timedelta(hours=2)
TRAILER_CONFIDENT = 0.8  # a trailer read this sure that contradicts the manifest is a mismatch


class ManifestIndex(Protocol):
    def lookup(self, text: str) -> Sequence[tuple[Manifest, str]]:
        """(manifest, plate) for each tractor or trailer plate that `text` (normalised) may be
        a misreading of; a manifest comes once per plate of it that fits."""
        ...

    def lookup_folded(self, text: str) -> Sequence[tuple[Manifest, str]]:
        """The part of `lookup` found by the folded key alone."""
        ...

    def lookup_near(self, text: str) -> Sequence[tuple[Manifest, str]]:
        """The part of `lookup` found by the one-deletion keys (one edit further)."""
        ...


class Matcher(Protocol):
    def match(
        self,
        reads: Sequence[PlateRead],
        *,
        direction: Direction | None,
        index: ManifestIndex,
        now: datetime,
    ) -> MatchResult: ...


class PlateIndex:
    """Manifests filed under the index keys of their tractor and trailer plates: a look-up is a
    handful of dict probes, whatever the number of manifests."""

    __slots__ = ("_by_key", "_ids")

    def __init__(self, manifests: Iterable[Manifest] = ()) -> None:
        self._by_key: dict[str, list[tuple[Manifest, str]]] = {}
        self._ids: set[str] = set()
        self.add(manifests)

    def add(self, manifests: Iterable[Manifest]) -> None:
        """File more manifests (one already filed, by manifest_id, is skipped)."""
        by_key, ids = self._by_key, self._ids
        for manifest in manifests:
            if manifest.manifest_id in ids:
                continue
            ids.add(manifest.manifest_id)
            plates = {
                normalise_plate(declared)
                for declared in (manifest.tractor_plate, manifest.trailer_plate)
                if declared
            }
            for plate in plates:
                entry = (manifest, plate)
                for key in index_keys(plate):
                    by_key.setdefault(key, []).append(entry)

    def lookup(self, text: str) -> Sequence[tuple[Manifest, str]]:
        return self._hits(query_keys(text))

    def lookup_folded(self, text: str) -> Sequence[tuple[Manifest, str]]:
        return self._by_key.get(folded_key(text), ())

    def lookup_near(self, text: str) -> Sequence[tuple[Manifest, str]]:
        return self._hits(near_keys(text))

    def _hits(self, keys: Iterable[str]) -> Sequence[tuple[Manifest, str]]:
        by_key = self._by_key
        found = {(hit[0].manifest_id, hit[1]): hit for key in keys for hit in by_key.get(key, ())}
        return tuple(found.values())


class _Text(NamedTuple):
    text: str
    penalty: float
    weights: list[float] | None  # per character (`char_weights`), None for all 1.0


def read_texts(read: PlateRead) -> tuple[_Text, ...]:
    """The texts a read offers, normalised, each once, with the price of believing it."""
    top = normalise_plate(read.plate_text)
    texts: dict[str, _Text] = {}
    if top:
        confidences = read.char_confidences
        if confidences is None and read.confidence > 0:
            confidences = (read.confidence,) * len(top)
        texts[top] = _Text(top, 0.0, char_weights(top, confidences))
    best = max(read.confidence, 1e-6)
    for candidate in read.candidates:
        text = normalise_plate(candidate.text)
        if text and text not in texts:
            ratio = best / max(candidate.confidence, 1e-6)
            penalty = CANDIDATE_BASE + CANDIDATE_SLOPE * max(math.log(ratio), 0.0)
            texts[text] = _Text(text, penalty, None)
    return tuple(texts.values())


def _plate_cost(text: _Text, plate: str) -> float:
    # a read one character short pays less for it if it fits no plate format
    missing = _missing_price(text.text) if len(text.text) < len(plate) else INDEL
    return text.penalty + plate_cost(text.text, plate, missing=missing, weights=text.weights)


@lru_cache(maxsize=4096)
def _is_valid(text: str) -> bool:
    return parse_plate(text).valid


def _missing_price(text: str) -> float:
    return INDEL if _is_valid(text) else MISSING_INVALID


def _read_costs(
    texts: Sequence[_Text],
    index: ManifestIndex,
    proposed: dict[str, Manifest],
    *,
    alone: bool,
    unlikely: Callable[[Manifest], float] = lambda _: 0.0,
) -> dict[str, tuple[float, str]]:
    """manifest_id -> (cost, closest text) for each manifest the read's texts propose (and
    added to `proposed`). A read `alone` skips what cannot change its outcome: the texts too
    dear to match or to stand in the way of a match, and the plates one edit further (the
    index's near keys) when even the cheapest of them would be too dear. (A visit's mean
    needs every cost: a read of a visit looks everything up.)"""
    costs: dict[str, tuple[float, str]] = {}
    bound = [MATCH_MAX + MARGIN]

    def weigh(text: _Text, hits: Sequence[tuple[Manifest, str]]) -> None:
        for manifest, plate in hits:
            proposed[manifest.manifest_id] = manifest
            prior = costs.get(manifest.manifest_id)
            if prior is not None and prior[0] <= text.penalty:
                continue
            cost = min(_plate_cost(text, plate), READ_CAP)
            if prior is None or cost < prior[0]:
                costs[manifest.manifest_id] = (cost, text.text)
                # what the truck will be ranked by: a rival must come within the margin of it
                bound[0] = min(bound[0], cost + unlikely(manifest) + MARGIN)

    if not alone:
        for text in texts:
            weigh(text, index.lookup(text.text))
        return costs
    for text in texts:  # top text first: penalties only grow
        if text.penalty >= bound[0]:
            break
        weigh(text, index.lookup_folded(text.text))
    for text in texts:
        if _near_floor(text) < bound[0]:
            weigh(text, index.lookup_near(text.text))
    return costs


def _near_floor(text: _Text) -> float:
    """The least a plate found only by the text's near keys can cost."""
    lightest = 1.0 if text.weights is None else min(text.weights, default=1.0)
    return text.penalty + NEAR_FLOOR * lightest


def near_keys_needed(
    read: PlateRead, index: ManifestIndex, *, direction: Direction | None, now: datetime
) -> frozenset[str]:
    """The near keys of `read` worth loading into `index`, given what its folded keys found:
    what a store-backed index adds in a second look-up (`OcrMatcher.match` on the read alone
    gives the same answer with them as with every key loaded)."""
    texts = read_texts(read)
    found: dict[str, Manifest] = {}
    costs = _read_costs(texts, _FoldedOnly(index), found, alone=True)
    best = min(
        (c + _unlikely(found[m], direction, now) for m, (c, _) in costs.items()),
        default=READ_CAP + MATCH_MAX,
    )
    bound = min(MATCH_MAX + MARGIN, best + MARGIN)
    keys: set[str] = set()
    for text in texts:
        if _near_floor(text) < bound:
            keys |= near_keys(text.text)
    return frozenset(keys)


class _FoldedOnly:
    """An index seen through its folded keys only (for `near_keys_needed`)."""

    def __init__(self, index: ManifestIndex) -> None:
        self._index = index

    def lookup(self, text: str) -> Sequence[tuple[Manifest, str]]:
        return self._index.lookup_folded(text)

    def lookup_folded(self, text: str) -> Sequence[tuple[Manifest, str]]:
        return self._index.lookup_folded(text)

    def lookup_near(self, text: str) -> Sequence[tuple[Manifest, str]]:
        return ()


def _unlikely(manifest: Manifest, direction: Direction | None, now: datetime) -> float:
    """What a manifest for the other direction, or outside its window, adds to the cost: such
    a truck is less likely to be the one at the gate than a near plate that is expected."""
    penalty = 0.0
    if direction is not None and manifest.direction is not direction:
        penalty += WRONG_WAY
    if not in_window(manifest, now):
        far = abs(window_gap(manifest, now)) > FAR_OFF_WINDOW
        penalty += OFF_WINDOW_FAR if far else OFF_WINDOW
    return penalty


def score_of(cost: float) -> float:
    return round(math.exp(-cost), 4)


@dataclass(frozen=True, slots=True)
class MatchRule:
    """How sure the matcher must be. `evidence` (issue 19) also weighs what a plate string
    alone does not say; without it the matcher decides as it did before (`BASELINE_RULE`,
    kept for the robustness bench's baseline)."""

    evidence: bool = True


BASELINE_RULE = MatchRule(evidence=False)


class OcrMatcher:
    """The matcher of the live flow, the batch `borderflow match`, the replay and the bench."""

    __slots__ = ("rule",)

    def __init__(self, rule: MatchRule = MatchRule()) -> None:
        self.rule = rule

    def match(
        self,
        reads: Sequence[PlateRead],
        *,
        direction: Direction | None,
        index: ManifestIndex,
        now: datetime,
    ) -> MatchResult:
        readable = [texts for texts in map(read_texts, reads) if texts]
        if not readable:
            return MatchResult(MatchOutcome.UNREADABLE, None, 0.0, "no plate text was read")
        # the tractor's reads identify the truck; its trailer's are checked against it after
        tractor = [texts for texts in readable if not _is_trailer(texts[0].text)]
        readable = tractor or readable
        # a manifest a read's look-ups did not propose is at least one edit from its texts
        manifests: dict[str, Manifest] = {}
        alone = len(readable) == 1
        per_read = [
            _read_costs(
                texts,
                index,
                manifests,
                alone=alone,
                unlikely=lambda m: _unlikely(m, direction, now),
            )
            for texts in readable
        ]
        # per truck (tractor plate): its best manifest's mean cost over the reads
        trucks: dict[str, tuple[float, str, str]] = {}  # plate -> (cost, manifest_id, text)
        for manifest_id, manifest in manifests.items():
            found = [costs.get(manifest_id, (FAR, "")) for costs in per_read]
            mean = sum(c for c, _ in found) / len(found)
            entry = (mean + _unlikely(manifest, direction, now), manifest_id, min(found)[1])
            if manifest.tractor_plate not in trucks or entry < trucks[manifest.tractor_plate]:
                trucks[manifest.tractor_plate] = entry
        ranked = sorted((cost, plate, mid, text) for plate, (cost, mid, text) in trucks.items())
        scored = tuple(
            ScoredManifest(mid, plate, score_of(cost), text)
            for cost, plate, mid, text in ranked[:3]
        )
        seen = _seen(readable)
        if not ranked or ranked[0][0] > MATCH_MAX:
            nearest = "" if not ranked else f"; nearest: {_describe(ranked[0])}"
            return MatchResult(
                MatchOutcome.UNKNOWN,
                None,
                score_of(ranked[0][0]) if ranked else 0.0,
                f"no manifest for plate {seen}{nearest}",
                scored,
            )
        best = ranked[0]
        # with no other truck near, MATCH_MAX alone decides
        if len(ranked) > 1 and ranked[1][0] - best[0] < MARGIN:
            close = [r for r in ranked if r[0] - best[0] < MARGIN]
            return MatchResult(
                MatchOutcome.AMBIGUOUS,
                None,
                score_of(best[0]),
                f"plate {seen} fits {len(close)} trucks too closely to tell apart: "
                + "; ".join(_describe(r) for r in close[:3]),
                scored,
            )
        same_truck = [m for m in manifests.values() if m.tractor_plate == best[1]]
        how = f"plate {seen} -> {best[1]} (score {score_of(best[0]):.2f}, "
        how += f"runner-up {score_of(ranked[1][0]):.2f})" if len(ranked) > 1 else "no runner-up)"
        return _check(
            same_truck,
            reads,
            direction=direction,
            now=now,
            score=score_of(best[0]),
            how=how,
            scored=scored,
        )


def _is_trailer(text: str) -> bool:
    return may_be_trailer(text) and parse_plate(text).kind is PlateKind.TRAILER


def _seen(readable: Sequence[Sequence[_Text]]) -> str:
    tops = sorted({texts[0].text for texts in readable})
    return "/".join(tops[:3]) + ("/..." if len(tops) > 3 else "")


def _describe(entry: tuple[float, str, str, str]) -> str:
    cost, plate, manifest_id, _ = entry
    return f"{manifest_id} ({plate}, score {score_of(cost):.2f})"


def in_window(manifest: Manifest, now: datetime) -> bool:
    """Whether `now` lies in [window_start, window_end]; a missing bound is open."""
    if manifest.window_start is not None and now < manifest.window_start:
        return False
    return manifest.window_end is None or now <= manifest.window_end


def window_gap(manifest: Manifest, now: datetime) -> timedelta:
    """How far `now` lies outside the manifest's window: negative early, positive late."""
    if manifest.window_start is not None and now < manifest.window_start:
        return now - manifest.window_start
    if manifest.window_end is not None and now > manifest.window_end:
        return now - manifest.window_end
    return timedelta(0)


def _check(
    same_truck: Sequence[Manifest],
    reads: Sequence[PlateRead],
    *,
    direction: Direction | None,
    now: datetime,
    score: float,
    how: str,
    scored: tuple[ScoredManifest, ...],
) -> MatchResult:
    def result(outcome: MatchOutcome, manifest: Manifest | None, why: str) -> MatchResult:
        return MatchResult(outcome, manifest, score, f"{how}: {why}", scored)

    ways = [m for m in same_truck if direction is None or m.direction is direction]
    if not ways:
        declared = sorted(same_truck, key=lambda m: m.manifest_id)
        only = declared[0] if len(declared) == 1 else None
        ids = ", ".join(m.manifest_id for m in declared)
        return result(
            MatchOutcome.MISMATCH,
            only,
            f"{ids} declare{'s' if only else ''} {declared[0].direction}, "
            f"but the truck was seen going {direction}",
        )
    open_now = [m for m in ways if in_window(m, now)]
    if len(open_now) > 1:
        ids = ", ".join(sorted(m.manifest_id for m in open_now))
        return result(MatchOutcome.AMBIGUOUS, None, f"manifests {ids} are all open at {now:%H:%M}")
    if open_now:
        manifest = open_now[0]
    else:
        by_gap = sorted(ways, key=lambda m: (abs(window_gap(m, now)), m.manifest_id))
        if len(by_gap) > 1 and abs(window_gap(by_gap[0], now)) == abs(window_gap(by_gap[1], now)):
            ids = ", ".join(m.manifest_id for m in by_gap[:2])
            return result(MatchOutcome.AMBIGUOUS, None, f"manifests {ids}, none open now")
        manifest = by_gap[0]
    problem = _mismatch(manifest, reads)
    if problem is not None:
        return result(MatchOutcome.MISMATCH, manifest, f"{manifest.manifest_id}: {problem}")
    if manifest.customs_status is CustomsStatus.PENDING:
        return result(
            MatchOutcome.NOT_CLEARED, manifest, f"{manifest.manifest_id}: customs status pending"
        )
    if not in_window(manifest, now):
        gap = window_gap(manifest, now)
        word = "early" if gap < timedelta(0) else "late"
        return result(
            MatchOutcome.OUTSIDE_WINDOW,
            manifest,
            f"{manifest.manifest_id}: {_duration(abs(gap))} {word} for its window "
            f"{_when(manifest.window_start)}-{_when(manifest.window_end)}",
        )
    return result(MatchOutcome.MATCHED, manifest, f"{manifest.manifest_id} ({manifest.direction})")


def _mismatch(manifest: Manifest, reads: Sequence[PlateRead]) -> str | None:
    declared = set(manifest.containers)
    for read in reads:
        for number in read.container_numbers:
            text = normalise_container(number)
            if is_valid_container(text) and text not in declared:
                listed = ", ".join(manifest.containers) or "none"
                return f"container {text} read, manifest declares {listed}"
        text = normalise_plate(read.plate_text)
        if read.confidence < TRAILER_CONFIDENT or not _is_trailer(text):
            continue
        parsed = parse_plate(text)
        if manifest.trailer_plate is None:
            return f"trailer {parsed.text} read, manifest declares no trailer"
        if plate_cost(parsed.text, manifest.trailer_plate, read.char_confidences) >= FAR:
            return f"trailer {parsed.text} read, manifest declares {manifest.trailer_plate}"
    return None


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _when(at: datetime | None) -> str:
    return "open" if at is None else f"{at:%Y-%m-%d %H:%M}"
