"""A what-if's lane closures (services/replay/closures.py) as lane events among the recorded
inputs: the control room's `lane_closed` at a closure's start and `lane_opened` at its end,
each in a lane-event batch of its own, so the live lane-event use case applies them (the
board's closed lane; the trucks queued on it re-planned by the policy, each given a revised
decision) and the decider sees the lane closed, as live. One rule for live and replay: no
closure is decided here.

Where each goes among the recorded batches (handled in their recorded order, each batch
whole): a closure before the first batch holding an input at or after its start; a
reopening before the first batch whose inputs are all at or after its end. So every batch
with an input inside the closure is handled with the lane closed.

The recorded day's own openings and closings of a lane the what-if closes, inside the
closure, are set aside (a controller reopening it at 11:00 would end a 10:00-14:00 closure);
a lane the record had closed already when the closure begins is not closed again, and one
the record has closed when it ends stays closed until the record reopens it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from services.archive.records import ArchivedRecord
from services.replay.closures import Closure
from services.replay.inputs import LANE_EVENT_WORKER, InputBatch, ReplayInputs
from streams.codec import encode_enveloped
from streams.errors import InvalidEvent
from streams.lane_events import LANE_EVENT_TYPE, LaneEventV1, decode_lane_event
from streams.topics import LANE_EVENTS

LANE_CHANGES = ("lane_closed", "lane_opened")


@dataclass(frozen=True, slots=True)
class Closed:
    inputs: ReplayInputs  # the recorded inputs with the closures' lane events
    added: int  # lane events the what-if added
    set_aside: int  # the record's lane openings and closings inside a closure, left out


@dataclass(frozen=True, slots=True)
class _Change:  # a recorded opening or closing of a lane
    at: datetime
    event_id: str
    opens: bool
    batch: int
    record: int


def close_lanes(inputs: ReplayInputs, closures: Sequence[Closure], *, source: str) -> Closed:
    """`inputs` with the lane events of `closures` (their times given: `for_range`)."""
    if not closures:
        return Closed(inputs, 0, 0)
    batches = inputs.batches
    spans = [_span(batch) for batch in batches]
    recorded = _recorded_changes(batches)
    drop: set[tuple[int, int]] = set()
    due: dict[int, list[LaneEventV1]] = defaultdict(list)  # batch position -> events before it
    for (gate_id, lane_id), closed in _merged(closures).items():
        changes = sorted(recorded.get((gate_id, lane_id), []), key=lambda c: (c.at, c.event_id))
        for start, end in closed:
            drop |= {(c.batch, c.record) for c in changes if start <= c.at < end}
            if _open_before(changes, start):
                at = _first(spans, reaching=start)
                due[len(batches) if at is None else at].append(
                    _event(gate_id, lane_id, "lane_closed", start, source)
                )
            reopen = _first(spans, after=end)
            if reopen is not None and _open_before(changes, end):
                due[reopen].append(_event(gate_id, lane_id, "lane_opened", end, source))
    out: list[InputBatch] = []
    for n in range(len(batches) + 1):
        if n in due:
            out.append(_batch(due[n], batches[n - 1] if n else None))
        if n < len(batches):
            batch = batches[n]
            kept = tuple(r for i, r in enumerate(batch.records) if (n, i) not in drop)
            out.append(batch if len(kept) == len(batch.records) else replace(batch, records=kept))
    added = sum(len(events) for events in due.values())
    return Closed(replace(inputs, batches=tuple(out)), added, len(drop))


def _merged(closures: Sequence[Closure]) -> dict[tuple[str, str], list[tuple[datetime, datetime]]]:
    """Each lane's closures, overlapping or touching ones as one."""
    spans: dict[tuple[str, str], list[tuple[datetime, datetime]]] = defaultdict(list)
    for c in closures:
        assert c.start is not None and c.end is not None
        for lane_id in c.lane_ids:
            spans[(c.gate_id, lane_id)].append((c.start, c.end))
    out: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}
    for key in sorted(spans):
        merged: list[tuple[datetime, datetime]] = []
        for start, end in sorted(spans[key]):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        out[key] = merged
    return out


def _recorded_changes(batches: Sequence[InputBatch]) -> dict[tuple[str, str], list[_Change]]:
    out: dict[tuple[str, str], list[_Change]] = defaultdict(list)
    for n, batch in enumerate(batches):
        if batch.worker != LANE_EVENT_WORKER:
            continue
        for i, record in enumerate(batch.records):
            try:
                event = decode_lane_event(record.value)
            except InvalidEvent:
                continue  # dead-lettered live; skipped by the replay too
            if event.kind in LANE_CHANGES and event.lane_id is not None:
                change = _Change(event.at, event.event_id, event.kind == "lane_opened", n, i)
                out[(event.gate_id, event.lane_id)].append(change)
    return out


def _open_before(changes: Sequence[_Change], at: datetime) -> bool:
    """Whether the record had the lane open just before `at` (open unless closed)."""
    before = [c for c in changes if c.at < at]
    return not before or before[-1].opens


def _span(batch: InputBatch) -> tuple[datetime, datetime] | None:
    """The earliest and latest event times of the batch's inputs (None: it holds none)."""
    times = [r.event_time for r in batch.records]
    return (min(times), max(times)) if times else None


def _first(
    spans: Sequence[tuple[datetime, datetime] | None],
    *,
    reaching: datetime | None = None,
    after: datetime | None = None,
) -> int | None:
    """The first batch with an input at or after `reaching`, or with all its inputs at or
    after `after`."""
    for n, span in enumerate(spans):
        if span is None:
            continue
        if (reaching is not None and span[1] >= reaching) or (
            after is not None and span[0] >= after
        ):
            return n
    return None


def _event(gate_id: str, lane_id: str, kind: str, at: datetime, source: str) -> LaneEventV1:
    return LaneEventV1(
        event_id=f"what-if:{kind}:{lane_id}:{at.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        gate_id=gate_id,
        kind=kind,
        at=at,
        lane_id=lane_id,
        reason=f"what-if {source}",
        actor="what-if",
    )


def _batch(events: Sequence[LaneEventV1], before: InputBatch | None) -> InputBatch:
    """A lane-event batch of `events`, seeing the manifests and bookings the batch `before`
    it saw (none before the first: each is fed with the batch that saw it live)."""
    records = []
    for event in sorted(events, key=lambda e: (e.at, e.event_id)):
        value, headers = encode_enveloped(
            event,
            event_id=event.event_id,
            type_=LANE_EVENT_TYPE,
            occurred_at=event.at,
            producer="borderflow-replay",
        )
        records.append(
            ArchivedRecord(
                topic=LANE_EVENTS.name,
                partition=0,
                offset=-1,  # on no topic
                timestamp_ms=int(event.at.timestamp() * 1000),
                key=event.gate_id.encode(),
                value=value,
                headers=tuple((k, v) for k, v in headers),
                event_id=event.event_id,
                event_time=event.at,
            )
        )
    return InputBatch(
        LANE_EVENT_WORKER,
        tuple(records),
        None,
        manifest_seq=before.manifest_seq if before is not None else -1,
        booking_seq=before.booking_seq if before is not None else -1,
    )
