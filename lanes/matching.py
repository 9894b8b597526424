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

Issue 19 (`MatchRule(evidence=True)`, the default; `BASELINE_RULE` is the rule before it):
what the plate alone leaves unknown or ambiguous is weighed further (`_weigh`): the best
truck must be expected here now (direction, window), not contradicted (trailer, containers),
within one edit a read on average (two with a declared container or the trailer read),
`EVIDENCE_MARGIN` ahead of every runner-up and `NONE_MARGIN` ahead of "a truck with no
manifest" (`none_prior`: dearer the fewer manifests the index expects here now), each
hypothesis summing the same per-read prices over all the visit's reads. Otherwise the visit
goes to review with the reason in words.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from lanes.containers import is_valid_container, normalise_container
from lanes.evidence import (
    CORROBORATED_MAX,
    EVIDENCE_MAX,
    MARGIN,
    ROWS_SWAPPED,
    corroboration,
    read_price,
    rows_swapped,
    stranger_plates,
)
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
    NEAR_FLOOR,
    char_weights,
    folded_key,
    index_keys,
    near_keys,
    plate_cost,
    query_keys,
)
from lanes.values import gate_clock, zone_name

MATCH_MAX = 0.7  # the most a visit's mean cost may be for its plate to count as read
FAR = 1.0  # the cost assumed for a truck the index did not propose (at least one edit away)
READ_CAP = 2.0  # one hopeless read cannot outweigh the others without limit
CANDIDATE_BASE = 0.25  # the price of believing a read's runner-up text over its top one
CANDIDATE_SLOPE = 0.3  # ... plus this times ln(top confidence / candidate confidence)
WRONG_WAY = 0.3  # added to a manifest's cost when it declares the other direction
OFF_WINDOW = 0.25  # ... and when the read falls outside its crossing window
OFF_WINDOW_FAR = 0.45  # ... by more than FAR_OFF_WINDOW
FAR_OFF_WINDOW = timedelta(hours=2)
TRAILER_CONFIDENT = 0.8  # a trailer read this sure that contradicts the manifest is a mismatch
TRAILER_OTHER = 1.5  # how far (edits, no confidences) a trailer read must be to contradict
# Evidence (issue 19): a truck further than MATCH_MAX is still decided when nothing else
# explains the reads as well (lanes.evidence), up to one arbitrary edit on average, two
# when a container or the trailer agrees, every rival EVIDENCE_MARGIN behind.
# (EVIDENCE_MAX, CORROBORATED_MAX and MARGIN, the plate alone's runner-up margin, are
# defined in lanes.evidence, with the price of a read, so that the risk alerts price by them
# too)
EVIDENCE_MARGIN = 0.8
NONE_MARGIN = 0.5  # how far behind "a truck with no manifest" must be, in edit units
# What "a truck with no manifest" pays for its plate lying this close to an expected
# manifest's, in edit units (`none_prior`): the coincidence is likelier the more manifests
# are expected at this gate, in this direction, now (a small set makes one edit safe). An
# assumption, not a measurement: NONE_PRIOR_BASE - NONE_PRIOR_SLOPE * log10(expected),
# between NONE_PRIOR_MIN and NONE_PRIOR_MAX; NONE_PRIOR_MIN, the value before issue 19,
# when the index cannot say how many are expected (the live decider's index holds only the
# manifests near the batch's reads). bench/robustness.py and bench/matching.py measure it
# at about 470 and 3,000 expected manifests per direction.
NONE_PRIOR_BASE = 2.35
NONE_PRIOR_SLOPE = 0.5
NONE_PRIOR_MIN = 1.2
NONE_PRIOR_MAX = 2.4
NONE_PRIOR = NONE_PRIOR_MIN
WEIGHT_CAP = 1.0  # the most a confident character's weight may reach (issue 19)


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

    def expected(self, direction: Direction, now: datetime) -> int | None:
        """How many manifests are expected in `direction` at `now` (their window open), or
        None when the index does not hold them all (issue 19: `none_prior`)."""
        ...


class Matcher(Protocol):
    def match(
        self,
        reads: Sequence[PlateRead],
        *,
        direction: Direction | None,
        index: ManifestIndex,
        now: datetime,
        zone: timedelta | None = None,
    ) -> MatchResult: ...


class PlateIndex:
    """Manifests filed under the index keys of their tractor and trailer plates: a look-up is a
    handful of dict probes, whatever the number of manifests."""

    __slots__ = ("_by_key", "_complete", "_ends", "_ids", "_starts")

    def __init__(self, manifests: Iterable[Manifest] = (), *, complete: bool = False) -> None:
        """`complete`: the index holds every manifest that may be expected (the batch match,
        the benches), so it can say how many are (`expected`); a live index loaded by the
        batch's keys holds only some."""
        self._by_key: dict[str, list[tuple[Manifest, str]]] = {}
        self._ids: set[str] = set()
        self._complete = complete
        self._starts: dict[Direction, list[float]] = {}
        self._ends: dict[Direction, list[float]] = {}
        self.add(manifests)

    def add(self, manifests: Iterable[Manifest]) -> None:
        """File more manifests (one already filed, by manifest_id, is skipped)."""
        by_key, ids = self._by_key, self._ids
        for manifest in manifests:
            if manifest.manifest_id in ids:
                continue
            ids.add(manifest.manifest_id)
            if self._complete:
                start, end = manifest.window_start, manifest.window_end
                bisect.insort(
                    self._starts.setdefault(manifest.direction, []),
                    -math.inf if start is None else start.timestamp(),
                )
                bisect.insort(
                    self._ends.setdefault(manifest.direction, []),
                    math.inf if end is None else end.timestamp(),
                )
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

    def expected(self, direction: Direction, now: datetime) -> int | None:
        if not self._complete:
            return None
        at = now.timestamp()
        started = bisect.bisect_right(self._starts.get(direction, ()), at)
        ended = bisect.bisect_left(self._ends.get(direction, ()), at)
        return started - ended

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
    # the same, none above WEIGHT_CAP: what the evidence rule (issue 19) weighs with
    capped: list[float] | None = None


def read_texts(read: PlateRead, *, evidence: bool = True) -> tuple[_Text, ...]:
    """The texts a read offers, normalised, each once, with the price of believing it. With
    `evidence` (issue 19), a two-line plate read with its rows swapped also offers them put
    back in order (`lanes.evidence.rows_swapped`), and its weights are also given capped
    (`capped`): the evidence rule overrules a confident character at no more than the
    table's price (confidence may lower a price there, never raise it: OCR is sometimes
    confidently wrong), while the plate-alone rule keeps a confident character dearer."""
    top = normalise_plate(read.plate_text)
    texts: dict[str, _Text] = {}
    if top:
        confidences = read.char_confidences
        # a list of another length (one per character as printed, separators included, not
        # of the normalised text) cannot be placed: the read's confidence stands for each
        # character, as when none came (until 2026-12-06 the read was priced as unsure)
        if (confidences is None or len(confidences) != len(top)) and read.confidence > 0:
            confidences = (read.confidence,) * len(top)
        weights = char_weights(top, confidences)
        capped = weights
        if evidence and weights is not None:
            capped = [min(w, WEIGHT_CAP) for w in weights]
        texts[top] = _Text(top, 0.0, weights, capped)
        fixed = rows_swapped(top) if evidence else None
        if fixed is not None:
            texts[fixed] = _Text(fixed, ROWS_SWAPPED, None)
    best = max(read.confidence, 1e-6)
    for candidate in read.candidates:
        text = normalise_plate(candidate.text)
        if text and text not in texts:
            ratio = best / max(candidate.confidence, 1e-6)
            penalty = CANDIDATE_BASE + CANDIDATE_SLOPE * max(math.log(ratio), 0.0)
            texts[text] = _Text(text, penalty, None)
    return tuple(texts.values())


def _plate_cost(
    text: _Text, plate: str, swaps: bool, *, capped: bool = False, far: bool = False
) -> float:
    return read_price(
        text.text,
        plate,
        swaps=swaps,
        penalty=text.penalty,
        weights=text.capped if capped else text.weights,
        far=far,
    )


def _read_costs(
    texts: Sequence[_Text],
    index: ManifestIndex,
    proposed: dict[str, Manifest],
    *,
    alone: bool,
    unlikely: Callable[[Manifest], float] = lambda _: 0.0,
    rule: MatchRule | None = None,
) -> dict[str, tuple[float, str]]:
    """manifest_id -> (cost, closest text) for each manifest the read's texts propose (and
    added to `proposed`). A read `alone` skips what cannot change its outcome: the texts too
    dear to match or to stand in the way of a match, and the plates one edit further (the
    index's near keys) when even the cheapest of them would be too dear. (A visit's mean
    needs every cost: a read of a visit looks everything up.)"""
    costs: dict[str, tuple[float, str]] = {}
    rule = rule or MatchRule()
    margin, swaps = rule.margin, rule.evidence
    bound = [rule.reach]

    def weigh(text: _Text, hits: Sequence[tuple[Manifest, str]]) -> None:
        for manifest, plate in hits:
            proposed[manifest.manifest_id] = manifest
            prior = costs.get(manifest.manifest_id)
            if prior is not None and prior[0] <= text.penalty:
                continue
            cost = min(_plate_cost(text, plate, swaps), READ_CAP)
            if prior is None or cost < prior[0]:
                costs[manifest.manifest_id] = (cost, text.text)
                # what the truck will be ranked by: a rival must come within the margin of it
                # (a truck within MATCH_MAX is settled by MARGIN, the plate alone's margin:
                # when a rival comes that close, `OcrMatcher.match` looks everything up)
                ranked = cost + unlikely(manifest)
                bound[0] = min(bound[0], ranked + (MARGIN if ranked <= MATCH_MAX else margin))

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
    read: PlateRead,
    index: ManifestIndex,
    *,
    direction: Direction | None,
    now: datetime,
    rule: MatchRule | None = None,
) -> frozenset[str]:
    """The near keys of `read` worth loading into `index`, given what its folded keys found:
    what a store-backed index adds in a second look-up (`OcrMatcher.match` on the read alone
    gives the same answer with them as with every key loaded)."""
    rule = rule or MatchRule()
    texts = read_texts(read, evidence=rule.evidence)
    found: dict[str, Manifest] = {}
    costs = _read_costs(texts, _FoldedOnly(index), found, alone=True, rule=rule)
    ranked = sorted(c + _unlikely(found[m], direction, now) for m, (c, _) in costs.items())
    best = ranked[0] if ranked else READ_CAP + MATCH_MAX
    close = len(ranked) > 1 and ranked[1] - best < MARGIN  # ambiguous: every key is needed
    margin = MARGIN if best <= MATCH_MAX and not close else rule.margin
    bound = rule.reach if close and rule.evidence else min(rule.reach, best + margin)
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

    def expected(self, direction: Direction, now: datetime) -> int | None:
        return self._index.expected(direction, now)


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


def none_prior(expected: int | None) -> float:
    """What "a truck with no manifest" pays, in edit units, given how many manifests are
    expected here now (None: not known)."""
    if expected is None:
        return NONE_PRIOR_MIN
    prior = NONE_PRIOR_BASE - NONE_PRIOR_SLOPE * math.log10(max(expected, 1))
    return min(NONE_PRIOR_MAX, max(NONE_PRIOR_MIN, prior))


def score_of(cost: float) -> float:
    return round(math.exp(-cost), 4)


@dataclass(frozen=True, slots=True)
class MatchRule:
    """How sure the matcher must be. `evidence` (issue 19) also weighs what a plate string
    alone does not say (`lanes.evidence`: the hypothesis of a truck with no manifest, the
    trailer and containers, rows swapped, transpositions); without it the matcher decides as
    it did before (`BASELINE_RULE`, kept for the robustness bench's baseline)."""

    evidence: bool = True

    @property
    def margin(self) -> float:
        """How far behind the best truck a rival must be (what look-ups may skip beyond)."""
        return EVIDENCE_MARGIN if self.evidence else MARGIN

    @property
    def reach(self) -> float:
        """The dearest text or plate a lone read's look-ups need to weigh."""
        return (CORROBORATED_MAX if self.evidence else MATCH_MAX) + self.margin


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
        zone: timedelta | None = None,
    ) -> MatchResult:
        """The reads' truck, as of `now`; `zone`: the gate's offset from UTC, in which a
        reason tells a time (None: UTC, as the benches and `borderflow match` print)."""
        rule = self.rule
        readable = [texts for r in reads if (texts := read_texts(r, evidence=rule.evidence))]
        if not readable:
            return MatchResult(MatchOutcome.UNREADABLE, None, 0.0, "no plate text was read")
        # the tractor's reads identify the truck; its trailer's are checked against it after
        tractor = [texts for texts in readable if not _is_trailer(texts[0].text)]
        readable = tractor or readable
        # a manifest a read's look-ups did not propose is at least one edit from its texts
        manifests: dict[str, Manifest] = {}
        alone = len(readable) == 1
        ranked = _rank(readable, index, manifests, direction, now, rule, alone=alone)
        if alone and rule.evidence and _close(ranked):
            # a rival within MARGIN: the evidence rule weighs rivals further than the lone
            # read's pruned look-ups went
            ranked = _rank(readable, index, manifests, direction, now, rule, alone=False)
        scored = tuple(
            ScoredManifest(mid, plate, score_of(cost), text)
            for cost, plate, mid, text in ranked[:3]
        )
        seen = _seen(readable)
        unknown = not ranked or ranked[0][0] > MATCH_MAX
        # with no other truck near, MATCH_MAX alone decides
        ambiguous = not unknown and _close(ranked)
        because = ""
        if ranked and rule.evidence:

            def prior() -> float:
                expected = None if direction is None else index.expected(direction, now)
                return none_prior(expected)

            if unknown or ambiguous:
                sure, because = _weigh(ranked, manifests, reads, readable, direction, now, prior)
                if sure:
                    unknown = ambiguous = False
            else:
                because = _doubt(ranked[0], manifests, reads, readable, direction, now, prior)
                unknown = bool(because)
        if unknown:
            nearest = "" if not ranked else f"; nearest: {_describe(ranked[0])}"
            return MatchResult(
                MatchOutcome.UNKNOWN,
                None,
                score_of(ranked[0][0]) if ranked else 0.0,
                f"no manifest for plate {seen}{nearest}{because}",
                scored,
            )
        best = ranked[0]
        if ambiguous:
            close = [r for r in ranked if r[0] - best[0] < MARGIN]
            return MatchResult(
                MatchOutcome.AMBIGUOUS,
                None,
                score_of(best[0]),
                f"plate {seen} fits {len(close)} trucks too closely to tell apart: "
                + "; ".join(_describe(r) for r in close[:3])
                + because,
                scored,
            )
        same_truck = [m for m in manifests.values() if m.tractor_plate == best[1]]
        how = f"plate {seen} -> {best[1]} (score {score_of(best[0]):.2f}, "
        how += f"runner-up {score_of(ranked[1][0]):.2f})" if len(ranked) > 1 else "no runner-up)"
        how += f" {because}" if because else ""
        return _check(
            same_truck,
            reads,
            direction=direction,
            now=now,
            zone=zone,
            score=score_of(best[0]),
            how=how,
            scored=scored,
            evidence=rule.evidence,
        )


def _rank(  # noqa: PLR0917 - one private helper of match()
    readable: Sequence[Sequence[_Text]],
    index: ManifestIndex,
    manifests: dict[str, Manifest],
    direction: Direction | None,
    now: datetime,
    rule: MatchRule,
    *,
    alone: bool,
) -> list[tuple[float, str, str, str]]:
    """(cost, tractor plate, manifest_id, closest text) per truck, best first: each truck's
    best manifest's mean cost over the reads (plus what makes it unexpected here now)."""
    per_read = [
        _read_costs(
            texts,
            index,
            manifests,
            alone=alone,
            unlikely=lambda m: _unlikely(m, direction, now),
            rule=rule,
        )
        for texts in readable
    ]
    trucks: dict[str, tuple[float, str, str]] = {}  # plate -> (cost, manifest_id, text)
    for manifest_id, manifest in manifests.items():
        found = [costs.get(manifest_id, (FAR, "")) for costs in per_read]
        mean = sum(c for c, _ in found) / len(found)
        entry = (mean + _unlikely(manifest, direction, now), manifest_id, min(found)[1])
        if manifest.tractor_plate not in trucks or entry < trucks[manifest.tractor_plate]:
            trucks[manifest.tractor_plate] = entry
    return sorted((cost, plate, mid, text) for plate, (cost, mid, text) in trucks.items())


def _close(ranked: Sequence[tuple[float, str, str, str]]) -> bool:
    """Whether the runner-up truck is within MARGIN of a best truck within MATCH_MAX."""
    return len(ranked) > 1 and ranked[0][0] <= MATCH_MAX and ranked[1][0] - ranked[0][0] < MARGIN


def _weigh(  # noqa: PLR0917 - one private helper of match()
    ranked: Sequence[tuple[float, str, str, str]],
    manifests: Mapping[str, Manifest],
    reads: Sequence[PlateRead],
    readable: Sequence[Sequence[_Text]],
    direction: Direction | None,
    now: datetime,
    prior: Callable[[], float] = lambda: NONE_PRIOR,
) -> tuple[bool, str]:
    """Whether the evidence beyond the closest plate string settles a truck the plate alone
    left unknown or ambiguous (`lanes.evidence`), and why, in words.

    Every hypothesis pays the same price for the same read (`_read_cost`), summed over the
    visit's reads, so that each read is evidence of its own: the best truck, each runner-up
    truck (plus what makes it unexpected here now), and "a truck with no manifest" (its plate
    one the reads spell, or one look-alike from one they spell, that no manifest proposed
    here declares; plus `none_prior`). The best truck must be expected here now, within
    the allowed cost, `EVIDENCE_MARGIN` ahead of every rival and `NONE_MARGIN` ahead of
    the stranger."""
    _, plate, manifest_id, _ = ranked[0]
    manifest = manifests[manifest_id]
    if _unlikely(manifest, direction, now) > 0:
        return False, f"; {manifest_id} is not expected here now (direction or window)"
    if (problem := _mismatch(manifest, reads)) is not None:
        return False, f"; {manifest_id} is contradicted: {problem}"
    support = corroboration(manifest, reads)
    costs = [_read_cost(texts, plate) for texts in readable]
    total = sum(costs)
    # a read far from every plate (another vehicle's, or hopeless) is no evidence for or
    # against any truck: the limit is on the others, and at least one must be of this truck
    near = [c for c in costs if c < READ_CAP]
    limit = (CORROBORATED_MAX if support else EVIDENCE_MAX) * len(near)
    if not near or sum(near) > limit:
        edits = "two edits" if support else "one edit"
        return False, f"; the reads are on average more than {edits} from {manifest_id}"
    rivals = [
        (entry[2], rival)
        for entry in ranked[1:4]
        if (rival := _total(readable, entry[1]) + _unlikely(manifests[entry[2]], direction, now))
        - total
        < EVIDENCE_MARGIN
    ]
    if rivals and (not support or any(corroboration(manifests[r], reads) for r, _ in rivals)):
        names = ", ".join(r for r, _ in rivals[:3])
        return False, f"; {manifest_id} is not clearly ahead of {names}"
    if support:
        return True, f"[{support}]"
    known = {m.tractor_plate for m in manifests.values()}
    known |= {m.trailer_plate for m in manifests.values() if m.trailer_plate}
    doubt = _stranger(manifest_id, readable, total, known, prior)
    if doubt:
        return False, doubt
    return True, "[no other truck near, and no plate of their own explains the reads as well]"


def _doubt(  # noqa: PLR0917 - one private helper of match()
    best: tuple[float, str, str, str],
    manifests: Mapping[str, Manifest],
    reads: Sequence[PlateRead],
    readable: Sequence[Sequence[_Text]],
    direction: Direction | None,
    now: datetime,
    prior: Callable[[], float] = lambda: NONE_PRIOR,
) -> str:
    """Why a truck the plate alone settles is doubtful after all (several reads agreeing on
    another valid plate), or "" when it is not."""
    if len(readable) == 1:
        return ""  # one read within MATCH_MAX: the stranger's coincidence costs more
    _, plate, manifest_id, _ = best
    manifest = manifests[manifest_id]
    if corroboration(manifest, reads):
        return ""
    total = _total(readable, plate) + _unlikely(manifest, direction, now)
    known = {m.tractor_plate for m in manifests.values()}
    return _stranger(manifest_id, readable, total, known, prior)


def _read_cost(texts: Sequence[_Text], plate: str) -> float:
    """What one read costs under "the truck's plate is `plate`": its cheapest text."""
    return min(READ_CAP, *(_plate_cost(t, plate, True, capped=True) for t in texts))


def _total(readable: Sequence[Sequence[_Text]], plate: str, bound: float = math.inf) -> float:
    """The visit's reads' summed cost under `plate` (stops once past `bound`)."""
    total = 0.0
    for texts in readable:
        total += _read_cost(texts, plate)
        if total > bound:
            break
    return total


def _stranger(
    manifest_id: str,
    readable: Sequence[Sequence[_Text]],
    total: float,
    known: set[str],
    prior: Callable[[], float] = lambda: NONE_PRIOR,
) -> str:
    """Why "a truck with no manifest" explains the reads (summed cost `total` for the
    manifest) about as well, in words, or "". Its plate is one that fits a plate format and
    that no manifest proposed here declares: a text the reads offer, or one look-alike or one
    stray character from one (`lanes.evidence.stranger_plates`)."""
    bound = total + NONE_MARGIN - prior()  # what the stranger's reads must cost less than
    if bound <= 0:
        return ""
    for plate in stranger_plates(tuple(tuple(t.text for t in texts) for texts in readable)):
        if plate in known:
            continue
        if _total(readable, plate, bound) < bound:
            return (
                f"; the reads spell {plate}, a valid plate of no manifest here, which explains "
                f"them about as well as {manifest_id} does, and no trailer or container read "
                "confirms it"
            )
    return ""


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
    zone: timedelta | None = None,
    score: float,
    how: str,
    scored: tuple[ScoredManifest, ...],
    evidence: bool = True,
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
        at = f"{now:%H:%M}" if zone is None else gate_clock(now, zone, zone="named")
        return result(MatchOutcome.AMBIGUOUS, None, f"manifests {ids} are all open at {at}")
    if open_now:
        manifest = open_now[0]
    else:
        by_gap = sorted(ways, key=lambda m: (abs(window_gap(m, now)), m.manifest_id))
        if len(by_gap) > 1 and abs(window_gap(by_gap[0], now)) == abs(window_gap(by_gap[1], now)):
            ids = ", ".join(m.manifest_id for m in by_gap[:2])
            return result(MatchOutcome.AMBIGUOUS, None, f"manifests {ids}, none open now")
        manifest = by_gap[0]
    problem = _mismatch(manifest, reads, evidence=evidence)
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
            f"{_window(manifest, now, zone)}",
        )
    return result(MatchOutcome.MATCHED, manifest, f"{manifest.manifest_id} ({manifest.direction})")


def _mismatch(
    manifest: Manifest, reads: Sequence[PlateRead], *, evidence: bool = True
) -> str | None:
    """What the reads show that contradicts `manifest`, in words, or None: a container with a
    valid check digit it does not declare, or a confident trailer read far from the declared
    trailer (with `evidence`, issue 19: two edits or more, a transposition one edit; a trailer
    read one character off is taken as an OCR error, not as another trailer)."""
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
        if evidence:
            apart = plate_cost(parsed.text, manifest.trailer_plate, swaps=True)
            if apart >= TRAILER_OTHER:
                return f"trailer {parsed.text} read, manifest declares {manifest.trailer_plate}"
        elif plate_cost(parsed.text, manifest.trailer_plate, read.char_confidences) >= FAR:
            return f"trailer {parsed.text} read, manifest declares {manifest.trailer_plate}"
    return None


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _when(at: datetime | None) -> str:
    return "open" if at is None else f"{at:%Y-%m-%d %H:%M}"


def _window(manifest: Manifest, now: datetime, zone: timedelta | None) -> str:
    """The manifest's crossing window for people: on the gate's clock with its zone named
    (`06:00-12:30 (UTC+07:00)`, the date where it is not now's day), as the alerts tell a
    time; without a zone, in UTC as stored. Until 2026-12-06 always the latter, unnamed: a
    controller at Huu Nghi read '2025-07-13 23:00-2025-07-14 05:30' for 06:00-12:30."""
    if zone is None:
        return f"{_when(manifest.window_start)}-{_when(manifest.window_end)}"
    ends = [
        "open" if at is None else gate_clock(at, zone, day_of=now)
        for at in (manifest.window_start, manifest.window_end)
    ]
    return f"{ends[0]}-{ends[1]} ({zone_name(zone)})"
