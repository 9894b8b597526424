"""The decider's two-step index (folded keys, then `near_keys_needed`) gives a lone read the same
answer as an index holding every manifest, under the evidence rule of issue 19 (which weighs
rivals further than the plate alone and prunes its look-ups differently)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from lanes.matching import (
    BASELINE_RULE,
    MatchRule,
    OcrMatcher,
    PlateIndex,
    near_keys_needed,
    read_texts,
)
from lanes.model import Direction, Manifest
from lanes.similarity import folded_key, index_keys
from services.simulation.ocr_errors import matching_set

START = datetime(2025, 6, 1, tzinfo=UTC)
CAMERAS = {Direction.EXPORT: ("hn-exp-gate-1",), Direction.IMPORT: ("hn-imp-gate-1",)}


def test_two_step_look_ups_decide_as_the_full_index() -> None:
    data = matching_set(seed=7, manifests=1_500, reads=1_500, start=START, cameras=CAMERAS)
    by_key: dict[str, list[Manifest]] = {}
    for manifest in data.manifests:
        for plate in {manifest.tractor_plate, manifest.trailer_plate} - {None}:
            assert plate is not None
            for key in index_keys(plate):
                by_key.setdefault(key, []).append(manifest)

    def load(keys: Iterable[str]) -> list[Manifest]:
        return [m for key in keys for m in by_key.get(key, ())]

    full = PlateIndex(data.manifests)
    for rule in (MatchRule(), BASELINE_RULE):
        matcher = OcrMatcher(rule)
        for item in data.reads:
            read, direction, now = item.read, item.truck.direction, item.read.captured_at
            folded = {folded_key(t.text) for t in read_texts(read, evidence=rule.evidence)}
            index = PlateIndex(load(folded))
            index.add(load(near_keys_needed(read, index, direction=direction, now=now, rule=rule)))
            alone = matcher.match([read], direction=direction, index=full, now=now)
            two_step = matcher.match([read], direction=direction, index=index, now=now)
            assert (two_step.outcome, two_step.manifest) == (alone.outcome, alone.manifest), (
                read.plate_text
            )
