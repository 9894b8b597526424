"""The use case of the plate reads: decide a batch of reads (`DecideReads`).

One transaction on the gate's state (`GateStores`, the unit of work) per batch holds every
effect: the reads, their visits and tracks, the boards, the decisions, the bookings used or
not shown, and the risk alerts (`alert_step.py`); the decisions then leave through the
decision outbox and the alerts through theirs (both ports, built once in the composition
root). The Kafka consumer (services/workers/decider.py) and the replay call it; a
redelivered read changes nothing, and its stored form is handed back so that the caller
can tell a re-send from a conflicting duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from lanes.bookings import BookedSlot, BookingState, arrival_status, is_lost
from lanes.decide import decide_with_board, read_again
from lanes.matching import Matcher, PlateIndex, near_keys_needed, read_texts
from lanes.model import (
    BookingStatus,
    Gate,
    LaneDecision,
    MatchOutcome,
    MatchResult,
    PlateRead,
    Visit,
)
from lanes.policy import Policy, customs_channel
from lanes.policy.callforward import CalledPlace
from lanes.resolve import resolve_reads
from lanes.settle import settle
from lanes.similarity import folded_key
from lanes.visits import Grouping, ReadAtGate, VisitTrack, group_reads
from services.ports import AlertPublisher, DecisionPublisher, GateStore, GateStores
from services.service_layer.alert_step import AlertStep
from services.service_layer.lane_events import apply_held_lane_events

log = logging.getLogger(__name__)

WORKER = "decider"  # the name of its batches in the archive
# How long after its window closed a manifest is still looked up (a late truck is then
# `outside_window`, not `unknown`).
MANIFEST_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class IncomingRead:
    """A valid read resolved to its camera, with what is stored of it."""

    at_gate: ReadAtGate
    payload: Mapping[str, Any]  # its wire form, as JSON values
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class DecideReads:
    """Decide a batch of reads (each `event_id` once). `received_at`: the wall clock, kept
    with the reads and the alerts (operations only, never a decision). `watermark`: up to
    when every partition of the reads has been read (streams/watermark.py; None: all of
    them, as when the consumer keeps up): the alert rules judge no later."""

    reads: tuple[IncomingRead, ...]
    received_at: datetime
    watermark: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReadsDecided:
    decided: tuple[LaneDecision, ...]  # one per new visit
    held: tuple[LaneDecision, ...]  # queued decisions a holding alert took back to review
    stored: Mapping[str, Mapping[str, Any]]  # event_id -> the stored form of a read seen before
    fresh: int  # reads not seen before
    visits: int  # new visits of trucks arriving (the progress line's "trucks")
    alerts: int  # new alerts
    # revisions of queued trucks that held lane events (a closure) made when the reads
    # reached them (services/service_layer/lane_events.py)
    replanned: tuple[LaneDecision, ...] = ()


class DecideReadsHandler:
    """`DecideReads` -> `ReadsDecided`, on the unit of work `uow`; the decisions leave
    through `decisions`, the alerts through `alerts`."""

    def __init__(
        self,
        *,
        uow: GateStores,
        decisions: DecisionPublisher,
        alerts: AlertPublisher,
        gates: Mapping[str, Gate],
        matcher: Matcher,
        policy: Policy,
        incremental_alerts: bool = False,
    ) -> None:
        self.uow, self.decisions, self.alerts = uow, decisions, alerts
        self.gates = dict(gates)
        self.matcher, self.policy = matcher, policy
        # incremental: only for a store that never rolls back (the replay in memory)
        self.alert_step = AlertStep(gates, incremental=incremental_alerts)

    async def __call__(self, cmd: DecideReads) -> ReadsDecided:
        try:
            async with self.uow() as store:
                done = await self._decide(store, cmd)
        except BaseException:
            self.alert_step.rolled_back()
            raise
        self.alert_step.committed()
        self.decisions.committed()
        await self.decisions.send(done.replanned + done.decided + done.held)
        if done.alerts:
            self.alerts.dirty = True
            await self.alerts.drain()
        return done

    async def _decide(self, store: GateStore, cmd: DecideReads) -> ReadsDecided:
        batch = cmd.reads
        gate_ids = {r.at_gate.camera.gate_id for r in batch}
        await store.lock_gates(gate_ids)
        await self.decisions.mark_sent(store)
        stored = await store.stored_reads([r.at_gate.read.event_id for r in batch])
        fresh = [r for r in batch if r.at_gate.read.event_id not in stored]
        await store.record_batch(  # the replay's input boundaries (services/replay)
            WORKER,
            [r.at_gate.read.event_id for r in fresh],
            [r.at_gate.read.captured_at for r in fresh],
            watermark=cmd.watermark,
        )
        if not fresh:
            return ReadsDecided((), (), stored, 0, 0, 0)
        firsts, clocks = _gate_spans(fresh)  # resolving keeps each read's gate and time
        replanned: list[LaneDecision] = []
        reached: dict[str, datetime] = {}  # each gate's clock once this batch is saved
        for gate_id in sorted(clocks):
            # lane events held until the reads reached them: applied before the reads'
            # trucks are decided (the gate's clock never goes back)
            before = await store.gate_clock(gate_id)
            reached[gate_id] = max(clocks[gate_id], before or clocks[gate_id])
            replanned += await apply_held_lane_events(
                store, self.gates[gate_id], reached[gate_id], self.policy
            )
        index = await self._manifest_index(store, fresh)
        fresh, alone, recent = await self._resolve(store, fresh, index)
        tracks = await store.tracks({(r.at_gate.camera.gate_id, r.at_gate.plate) for r in fresh})
        decisions: list[LaneDecision] = []
        visits = 0
        visit_of_read: dict[str, str] = {}
        reads = {r.at_gate.read.event_id: r.at_gate.read for r in fresh}
        for gate_id in sorted(gate_ids):
            gate = self.gates[gate_id]
            here = [r.at_gate for r in fresh if r.at_gate.camera.gate_id == gate_id]
            grouping = group_reads(
                here, tracks, window=gate.visit_window, recent=recent.get(gate_id, ())
            )
            visit_of_read.update(grouping.visit_of_read)
            # trucks: not the visits a truck's exit reads open as it leaves (`_arriving`)
            visits += sum(_arriving(gate, v, reads) for v in grouping.new_visits)
            visits_now = [*grouping.new_visits, *await _called_up(store, gate, grouping, here)]
            decisions += await self._decide_visits(
                store, gate, visits_now, index, reads, alone=alone
            )
            await _save_visits(store, grouping)
        await store.add_reads([_read_row(r, visit_of_read, cmd.received_at) for r in fresh])
        await store.add_decisions(decisions)
        await self._expire_no_shows(store, clocks)
        alerts, held = await self.alert_step.run(
            store,
            clocks=clocks,
            gate_clocks=reached,
            firsts=firsts,
            watermark=cmd.watermark,
            decided=decisions,
            stored_at=cmd.received_at,
        )
        return ReadsDecided(
            tuple(decisions),
            tuple(held),
            stored,
            len(fresh),
            visits,
            len(alerts),
            tuple(replanned),
        )

    async def _expire_no_shows(self, store: GateStore, clocks: Mapping[str, datetime]) -> None:
        """Bookings whose slot ended more than the gate's grace before the gate's clock
        become no-shows. The gate's clock is event time, the newest read of this batch at
        that gate, so a replay marks the same bookings at the same point; it runs after the
        batch's arrivals, so a truck that came late in this batch is `lost_late`, not a
        no-show."""
        for gate_id, now in sorted(clocks.items()):
            rules = self.gates[gate_id].booking
            if rules is None:
                continue
            marked = await store.expire_bookings(gate_id=gate_id, now=now, grace=rules.grace)
            if marked:
                log.info("no-shows marked at %s (gate time %s): %s", gate_id, now, marked)

    async def _manifest_index(self, store: GateStore, batch: Sequence[IncomingRead]) -> PlateIndex:
        """The open manifests any text of the batch's reads may be a misreading of, in two
        look-ups: by each text's folded key, then by the near keys (one edit further) of the
        reads for which the first did not settle it (`near_keys_needed`)."""
        ended_after = min(r.at_gate.read.captured_at for r in batch) - MANIFEST_LOOKBACK
        reads = [r.at_gate for r in batch]
        folded = {folded_key(t.text) for r in reads for t in read_texts(r.read)}
        index = PlateIndex(await store.manifests_for_keys(folded, ended_after=ended_after))
        near: set[str] = set()
        for r in reads:
            near |= near_keys_needed(
                r.read, index, direction=r.camera.direction, now=r.read.captured_at
            )
        if near:
            index.add(await store.manifests_for_keys(near, ended_after=ended_after))
        return index

    async def _resolve(
        self, store: GateStore, batch: list[IncomingRead], index: PlateIndex
    ) -> tuple[list[IncomingRead], dict[str, MatchResult], dict[str, list[VisitTrack]]]:
        """The batch with each read's plate resolved to its truck (`lanes.resolve`), each
        read's match on its own, and each gate's visits near the batch's times (which late
        reads may join: `group_reads`)."""
        resolved: list[IncomingRead] = []
        alone: dict[str, MatchResult] = {}
        near: dict[str, list[VisitTrack]] = {}
        for gate_id in sorted({r.at_gate.camera.gate_id for r in batch}):
            items = [r for r in batch if r.at_gate.camera.gate_id == gate_id]
            window = self.gates[gate_id].visit_window
            times = [r.at_gate.read.captured_at for r in items]
            recent = near[gate_id] = await store.recent_visits(
                gate_id, since=min(times) - window, until=max(times) + window
            )
            found = resolve_reads(
                [(r.at_gate.read, r.at_gate.camera) for r in items],
                matcher=self.matcher,
                index=index,
                recent=recent,
                window=window,
                zone=self.gates[gate_id].utc_offset,
            )
            resolved += [replace(r, at_gate=f.at_gate) for r, f in zip(items, found, strict=True)]
            alone.update((f.at_gate.read.event_id, f.match) for f in found)
        return resolved, alone, near

    async def _decide_visits(
        self,
        store: GateStore,
        gate: Gate,
        visits: Sequence[Visit],
        index: PlateIndex,
        reads: Mapping[str, PlateRead],
        *,
        alone: Mapping[str, MatchResult],
    ) -> list[LaneDecision]:
        """The visits' decisions, but for the trucks that wait in a waiting area to be
        called (`_waits`): decided when read at the gate."""
        visits = [v for v in visits if _arriving(gate, v, reads)]
        if not visits:
            return []
        ordered = sorted(visits, key=lambda v: (v.last_seen_at, v.visit_id))
        matched = [
            (
                v,
                self._match(
                    v, index, reads, alone, at=_arrived(gate, v, reads), zone=gate.utc_offset
                ),
            )
            for v in ordered
        ]
        matched = [(v, m) for v, m in matched if not _waits(gate, v, m, reads)]
        if not matched:
            return []
        ordered, matches = [v for v, _ in matched], [m for _, m in matched]
        booked = await _bookings(store, gate, ordered, matches)
        called = await _calls(store, gate, ordered, matches)
        earlier = await _earlier(store, gate, matches)
        board = await store.board(gate)
        decisions = []
        for visit, match in zip(ordered, matches, strict=True):
            now = visit.last_seen_at
            board = settle(board, gate, now=now)
            prior = earlier.get(match.manifest.manifest_id) if match.manifest else None
            if read_again(visit, match, prior, board=board):
                continue  # the truck given the manifest, read again at the gate: no new decision
            slot = booked.get(match.manifest.manifest_id) if match.manifest else None
            booking = BookingStatus.WALK_IN
            if slot is not None and gate.booking is not None and slot.status == BookingState.ACTIVE:
                booking = arrival_status(
                    slot.slot_start, slot.slot_end, visit.first_seen_at, rules=gate.booking
                )
            decision, board = decide_with_board(
                visit,
                match,
                gate=gate,
                board=board,
                policy=self.policy,
                booking=booking,
                now=now,
                called=called.get(match.manifest.manifest_id) if match.manifest else None,
                earlier=prior,
            )
            decisions.append(decision)
            if decision.manifest_id is not None:
                earlier[decision.manifest_id] = decision  # a second visit in this batch
        await store.save_board(gate.gate_id, board, now=ordered[-1].last_seen_at)
        used = [d.manifest_id for d in decisions if d.manifest_id and d.outcome.value == "assigned"]
        if used and booked:
            await store.mark_used([m for m in used if m in booked], at=ordered[-1].last_seen_at)
        return decisions

    def _match(
        self,
        visit: Visit,
        index: PlateIndex,
        reads: Mapping[str, PlateRead],
        alone: Mapping[str, MatchResult],
        *,
        at: datetime,
        zone: timedelta,
    ) -> MatchResult:
        """The visit's reads matched together, as of the truck's arrival `at`; a visit of one
        read reuses that read's match from its resolution (the same read, direction, index and
        time: the same answer)."""
        if len(visit.read_event_ids) == 1:
            (event_id,) = visit.read_event_ids
            match = alone.get(event_id)
            if match is not None and reads[event_id].captured_at == at:
                return match
        return self.matcher.match(
            [reads[e] for e in visit.read_event_ids],
            direction=visit.direction,
            index=index,
            now=at,
            zone=zone,
        )


async def _bookings(
    store: GateStore, gate: Gate, visits: Sequence[Visit], matches: Sequence[MatchResult]
) -> Mapping[str, BookedSlot]:
    """The booked slots of the matched manifests (a booking more than the grace late is
    marked lost there and then: the truck is a walk-in)."""
    if gate.booking is None:
        return {}
    arrivals = {
        m.manifest.manifest_id: v.first_seen_at
        for v, m in zip(visits, matches, strict=True)
        if m.manifest is not None
    }
    if not arrivals:
        return {}
    # one look-up at the earliest arrival; only a truck past its grace is looked at again at
    # its own arrival time (which marks its booking lost)
    found = await store.booking_for_arrival(
        list(arrivals), at=min(arrivals.values()), grace=gate.booking.grace
    )
    for manifest_id, slot in list(found.items()):
        if is_lost(slot.slot_end, arrivals[manifest_id], rules=gate.booking):
            found |= await store.booking_for_arrival(
                [manifest_id], at=arrivals[manifest_id], grace=gate.booking.grace
            )
    return found


async def _earlier(
    store: GateStore, gate: Gate, matches: Sequence[MatchResult]
) -> dict[str, LaneDecision]:
    """The gate's newest decision on each manifest matched (one truck, one decision:
    `lanes.decide.given_before`)."""
    wanted = sorted(
        {
            m.manifest.manifest_id
            for m in matches
            if m.manifest and m.outcome is MatchOutcome.MATCHED
        }
    )
    return await store.latest_decisions(gate.gate_id, wanted) if wanted else {}


def _arriving(gate: Gate, visit: Visit, reads: Mapping[str, PlateRead]) -> bool:
    """Whether the visit may be a truck arriving (`Camera.sees_arrivals`): not one read only
    at the exit. Until 2026-12-05 every truck leaving opened a visit at the exit camera
    (its gate visit long closed) and was given a lane again: half the demo's decisions,
    phantom trucks on the board, a second review item for each truck needing one."""
    cameras = [gate.camera(reads[e].camera_id) for e in visit.read_event_ids if e in reads]
    return not cameras or any(c is None or c.sees_arrivals for c in cameras)


def _arrived(gate: Gate, visit: Visit, reads: Mapping[str, PlateRead]) -> datetime:
    """When the truck arrived, the time its match is judged at (its window open, expected
    here): its first read at a camera that sees arrivals, one at a waiting area's only when it
    has none elsewhere (a truck waiting to be called arrives when read at the gate). A decider
    keeping up decides a visit on that read; until 2026-12-06 a batch holding later reads too
    (a backlog, a gateway batching) judged it at its last read, an exit camera's included: a
    truck read in its window, then again after it, was 'late for its window' (found by a
    stranger's camera client, tests/unit/test_decided_on_arrival.py)."""
    areas = {a.camera_id for a in gate.waiting_areas}
    seen = [reads[e] for e in visit.read_event_ids if e in reads]
    arriving = [r for r in seen if (c := gate.camera(r.camera_id)) is None or c.sees_arrivals]
    at_gate = [r.captured_at for r in arriving if r.camera_id not in areas]
    times = at_gate or [r.captured_at for r in arriving]
    return min(times, default=visit.last_seen_at)


def _waits(gate: Gate, visit: Visit, match: MatchResult, reads: Mapping[str, PlateRead]) -> bool:
    """Whether the visit is a truck waiting in a waiting area to be called forward (issue
    23): seen only at an area's camera (this batch's reads of it), matched to a manifest its
    customs let through, at a gate that calls trucks forward. Call-forward queues and calls it; the
    gate decides it when it is read at the gate, where its call is honoured (`_calls`).
    Until then it holds no place on the board: a truck planned as if at the gate while it
    waits would fill the lanes' plans (the board takes every queued truck to go through as
    planned) and make call-forward's calls wait behind trucks that are not there. A truck
    that needs review (unknown, ambiguous, customs pending, ...) is decided at once, as
    before: the lane controllers can settle it while it waits."""
    if not gate.waiting_areas or match.outcome is not MatchOutcome.MATCHED:
        return False
    if match.manifest is None or customs_channel(match.manifest) is None:
        return False  # customs pending: review
    areas = {a.camera_id for a in gate.waiting_areas}
    cameras = {reads[e].camera_id for e in visit.read_event_ids if e in reads}
    return bool(cameras) and cameras <= areas


async def _called_up(
    store: GateStore, gate: Gate, grouping: Grouping, batch: Sequence[ReadAtGate]
) -> list[Visit]:
    """The visits a waiting truck opened at its area's camera (not decided then: `_waits`)
    that this batch reads at another camera of the gate (within the visit window: a truck
    called soon after it entered), as visits of those reads, first seen in the area."""
    if not gate.waiting_areas:
        return []
    areas = {a.camera_id for a in gate.waiting_areas}
    new = {v.visit_id for v in grouping.new_visits}
    at_gate: dict[str, list[ReadAtGate]] = {}
    for r in batch:
        visit_id = grouping.visit_of_read[r.read.event_id]
        if not r.camera.sees_arrivals:
            continue  # an exit read calls nobody up (nor decides anybody: `_arriving`)
        if r.camera.camera_id not in areas and visit_id not in new:
            at_gate.setdefault(visit_id, []).append(r)
    if not at_gate:
        return []
    decided = await store.decisions_for_visits(sorted(at_gate))
    tracks = {**grouping.extended_tracks, **{t.visit_id: t for t in grouping.tracks.values()}}
    out = []
    for visit_id, found in sorted(at_gate.items()):
        track = tracks.get(visit_id)
        if visit_id in decided or track is None:
            continue
        found.sort(key=lambda r: (r.read.captured_at, r.read.event_id))
        out.append(
            Visit(
                visit_id,
                track.gate_id,
                track.direction,
                track.plate,
                track.first_seen_at,
                found[-1].read.captured_at,
                tuple(r.read.event_id for r in found),
            )
        )
    return out


async def _calls(
    store: GateStore, gate: Gate, visits: Sequence[Visit], matches: Sequence[MatchResult]
) -> Mapping[str, CalledPlace]:
    """The calls of the matched manifests' trucks, when the gate calls trucks forward from a
    waiting area (issue 23): a called truck goes where the call sent it."""
    if not gate.waiting_areas or not any(m.manifest is not None for m in matches):
        return {}
    found = await store.called_places(
        gate.gate_id,
        since=min(v.first_seen_at for v in visits),
        until=max(v.last_seen_at for v in visits),
    )
    wanted = {m.manifest.manifest_id for m in matches if m.manifest is not None}
    return {p.manifest_id: p for p in found if p.manifest_id in wanted}


async def _save_visits(store: GateStore, grouping: Grouping) -> None:
    await store.add_visits([_visit_row(v, grouping.tracks) for v in grouping.new_visits])
    extended = grouping.extended_tracks  # the current tracks and older visits late reads joined
    await store.update_visits(
        [
            {
                "visit_id": vid,
                "first_seen_at": extended[vid].first_seen_at,
                "last_seen_at": extended[vid].last_seen_at,
                "read_count": extended[vid].read_count,
            }
            for vid in sorted(grouping.extended)
            if vid in extended
        ]
    )
    await store.save_tracks(grouping.tracks.values())


def _gate_spans(
    fresh: Sequence[IncomingRead],
) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """Each gate's oldest read of the batch and its clock after it (its newest read), in
    event time."""
    oldest: dict[str, datetime] = {}
    latest: dict[str, datetime] = {}
    for r in fresh:
        gate_id, at = r.at_gate.camera.gate_id, r.at_gate.read.captured_at
        oldest[gate_id] = min(at, oldest.get(gate_id, at))
        latest[gate_id] = max(at, latest.get(gate_id, at))
    return oldest, latest


def _read_row(
    item: IncomingRead, visit_of_read: Mapping[str, str], received_at: datetime
) -> dict[str, Any]:
    read = item.at_gate
    return {
        "event_id": read.read.event_id,
        "camera_id": read.read.camera_id,
        "gate_id": read.camera.gate_id,
        "captured_at": read.read.captured_at,
        "plate_text": read.read.plate_text,
        "plate": read.plate,
        "confidence": read.read.confidence,
        "payload": item.payload,
        "visit_id": visit_of_read[read.read.event_id],
        "source_topic": item.topic,
        "source_partition": item.partition,
        "source_offset": item.offset,
        "received_at": received_at,
    }


def _visit_row(visit: Visit, tracks: Mapping[tuple[str, str], VisitTrack]) -> dict[str, Any]:
    track = tracks.get((visit.gate_id, visit.plate))
    if track is not None and track.visit_id == visit.visit_id:
        first, last, count = track.first_seen_at, track.last_seen_at, track.read_count
    else:
        first, last, count = visit.first_seen_at, visit.last_seen_at, len(visit.read_event_ids)
    return {
        "visit_id": visit.visit_id,
        "gate_id": visit.gate_id,
        "direction": visit.direction.value,
        "plate": visit.plate,
        "first_seen_at": first,
        "last_seen_at": last,
        "read_count": count,
    }
