"""Which truck a read is of, before it is grouped into a visit.

Visits group reads by plate, and OCR gives one plate many spellings. So each read is first
resolved: a read the matcher attributes to a manifest takes that manifest's tractor plate
(a misread `29H-I23.45` and a clean `29H-123.45` then join one visit); a read it cannot
attribute joins the one recent visit at its gate and direction whose plate it is a close
look-alike of, or else keeps its own text (a new visit, for review). Two near-twin trucks in
one convoy stay apart: a read close to both joins neither. A batch's reads are resolved as
if handled one by one in event time: each read's plate is a recent visit for the reads after
it, so a misread joins its truck read in the same batch as it would one read before it.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from lanes.evidence import MARGIN
from lanes.matching import ManifestIndex, Matcher, read_texts
from lanes.model import Camera, Direction, MatchResult, PlateRead
from lanes.plates import normalise_plate
from lanes.similarity import plate_cost
from lanes.visits import ReadAtGate, VisitTrack

JOIN_MAX = 0.5  # the most an unattributed read may cost against a recent visit's plate


@dataclass(frozen=True, slots=True)
class Resolved:
    at_gate: ReadAtGate
    how: str  # "manifest", "recent visit" or "own text"
    match: MatchResult  # the read matched alone (a visit of this one read needs no other)


def resolve_reads(
    reads: Sequence[tuple[PlateRead, Camera]],
    *,
    matcher: Matcher,
    index: ManifestIndex,
    recent: Sequence[VisitTrack],
    window: timedelta,
    zone: timedelta | None = None,
) -> list[Resolved]:
    """Each read with the plate it is grouped under (see the module's doc); `zone`, the
    gate's offset from UTC, for the times its match tells."""
    batch: dict[tuple[str, Direction, str], VisitTrack] = {}  # the plates this batch read
    resolved: dict[int, Resolved] = {}
    in_time = sorted(range(len(reads)), key=lambda i: (reads[i][0].captured_at, i))
    for i in in_time:
        read, camera = reads[i]
        result = matcher.match(
            [read], direction=camera.direction, index=index, now=read.captured_at, zone=zone
        )
        if result.manifest is not None:
            plate, how = result.manifest.tractor_plate, "manifest"
        else:
            plate, how = _recent_plate(read, camera, [*recent, *batch.values()], window)
        resolved[i] = Resolved(ReadAtGate(read, camera, plate), how, result)
        if plate:  # the visit this read opens or joins, for the batch's later reads
            key, at = (camera.gate_id, camera.direction, plate), read.captured_at
            known = batch.get(key)
            batch[key] = (
                known.with_read(at)
                if known
                else VisitTrack(camera.gate_id, plate, "", camera.direction, at, at, 1)
            )
    return [resolved[i] for i in range(len(reads))]


def _recent_plate(
    read: PlateRead, camera: Camera, recent: Sequence[VisitTrack], window: timedelta
) -> tuple[str, str]:
    text = normalise_plate(read.plate_text)
    if not text:
        return text, "own text"
    weights = read_texts(read)[0].weights  # the top text's, as the matcher weighs it
    cheapest: dict[str, float] = {}  # each distinct recent plate at its lowest cost
    for track in recent:
        if (
            track.gate_id == camera.gate_id
            and track.direction is camera.direction
            and track.plate
            and track.covers(read.captured_at, window)
        ):
            cost = plate_cost(text, track.plate, weights=weights)
            if cost < cheapest.get(track.plate, math.inf):
                cheapest[track.plate] = cost
    distinct = heapq.nsmallest(2, ((cost, plate) for plate, cost in cheapest.items()))
    if not distinct or distinct[0][0] > JOIN_MAX:
        return text, "own text"
    if len(distinct) > 1 and distinct[1][0] - distinct[0][0] < MARGIN:
        return text, "own text"
    return distinct[0][1], "recent visit"
