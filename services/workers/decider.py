"""The decider worker: plate reads -> visits -> manifest match -> lane -> decision.

One database transaction per consumer batch holds every effect (reads, visits, tracks, lane
states, decisions); decisions then leave through an outbox (`published_at`), so a crash
anywhere loses nothing and a redelivered read changes nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord

from lanes.bookings import BookedSlot, BookingState, arrival_status, is_lost
from lanes.decide import decide_with_board
from lanes.matching import Matcher, PlateIndex, near_keys_needed, read_texts
from lanes.model import BookingStatus, Camera, Gate, LaneDecision, MatchResult, PlateRead, Visit
from lanes.plates import normalise_plate
from lanes.policy import Policy
from lanes.resolve import resolve_reads
from lanes.settle import settle
from lanes.similarity import folded_key
from lanes.visits import Grouping, ReadAtGate, VisitTrack, group_reads
from services.adapters.decision_outbox import DecisionOutbox
from services.alerts.outbox import AlertOutbox
from services.alerts.step import AlertStep
from services.runtime.metrics import CAMERA_CLOCK_SKEW, DECISION_SECONDS, timed
from services.service_layer.ports import GateStore, GateStores
from streams import clock
from streams.codec import decode_plate_read, plate_read_from_wire
from streams.errors import InvalidEvent
from streams.events import PlateReadV1
from streams.runtime import Inbound, Rejected
from streams.topics import LANE_DECISIONS

log = logging.getLogger(__name__)

PRODUCER_NAME = "borderflow.decider"
WORKER = "decider"  # the name of its batches in the archive
# How long after its window closed a manifest is still looked up (a late truck is then
# `outside_window`, not `unknown`).
MANIFEST_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class GateRead:
    """A valid read resolved to its camera: what the decider handles."""

    wire: PlateReadV1
    at_gate: ReadAtGate


@dataclass(frozen=True, slots=True)
class ClockWindow:
    """How far a read's `captured_at` may be from the clock that sent it (its Kafka record's
    timestamp: kept with the record, so a replay reaches the same verdict). A sanity check
    at the door, not a decision: decisions use `captured_at` itself."""

    ahead: timedelta = timedelta(minutes=5)
    behind: timedelta | None = None  # None: any age

    @classmethod
    def of(cls, ahead_s: float, behind_s: float | None) -> ClockWindow:
        return cls(
            timedelta(seconds=ahead_s), None if behind_s is None else timedelta(seconds=behind_s)
        )

    def refuses(self, captured_at: datetime, record_ms: int | None) -> str | None:
        """The reason to refuse the read, or None."""
        if record_ms is None or record_ms <= 0:  # no timestamp on the record: nothing to check
            return None
        sent = datetime.fromtimestamp(record_ms / 1000, tz=UTC)
        off = captured_at - sent
        if off > self.ahead:
            return (
                f"clock-skew: captured_at {captured_at.isoformat()} is {_span(off)} ahead of "
                f"the time it was sent ({sent.isoformat()}); allowed: {_span(self.ahead)}"
            )
        if self.behind is not None and -off > self.behind:
            return (
                f"clock-skew: captured_at {captured_at.isoformat()} is {_span(-off)} behind "
                f"the time it was sent ({sent.isoformat()}); allowed: {_span(self.behind)}"
            )
        return None


def _span(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds >= 2 * 86_400:
        return f"{seconds / 86_400:,.0f} days"
    if seconds >= 7_200:
        return f"{seconds / 3_600:,.1f} h"
    return f"{seconds:,.0f} s"


@dataclass
class DeciderStats:
    reads: int = 0
    duplicates: int = 0
    visits: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    published: int = 0


class Decider:
    """Reads and writes the gate's state through one port (`GateStore`, opened per batch by
    `stores`); its decisions and alerts leave through the two outboxes on that port."""

    def __init__(
        self,
        *,
        stores: GateStores,
        producer: AIOKafkaProducer,
        gates: Mapping[str, Gate],
        matcher: Matcher,
        policy: Policy,
        decisions_topic: str = LANE_DECISIONS.name,
        clock_window: ClockWindow | None = None,
    ) -> None:
        self.stores, self.producer = stores, producer
        self.clock_window = clock_window or ClockWindow()
        self.gates = dict(gates)
        self.cameras: dict[str, Camera] = {
            c.camera_id: c for g in gates.values() for c in g.cameras
        }
        self.matcher, self.policy = matcher, policy
        self.stats = DeciderStats()
        self.outbox = DecisionOutbox(
            stores=stores, producer=producer, topic=decisions_topic, producer_name=PRODUCER_NAME
        )
        # risk alerts (issue 22): a step of each batch, published through their own outbox
        self.alert_step = AlertStep(gates)
        self.alert_outbox = AlertOutbox(
            stores=stores, producer=producer, producer_name=PRODUCER_NAME
        )
        self._new_alerts = 0

    # -- decoding (runs in the consumer runtime; InvalidEvent -> dead letter) ----------
    def decode(self, record: ConsumerRecord) -> GateRead:
        wire = decode_plate_read(record.value)
        camera = self.cameras.get(wire.camera_id)
        if camera is None:
            raise InvalidEvent(
                f"camera_id: unknown camera {wire.camera_id!r} "
                f"(known: {', '.join(sorted(self.cameras)) or 'none'})"
            )
        skew = self.clock_window.refuses(wire.captured_at, record.timestamp)
        if skew is not None:
            raise InvalidEvent(skew)
        if record.timestamp is not None and record.timestamp > 0:
            CAMERA_CLOCK_SKEW.labels(wire.camera_id).set(
                wire.captured_at.timestamp() - record.timestamp / 1000
            )
        read = plate_read_from_wire(wire)
        return GateRead(wire, ReadAtGate(read, camera, normalise_plate(wire.plate_text)))

    # -- handling ------------------------------------------------------------------------
    @timed(DECISION_SECONDS)
    async def handle(self, batch: Sequence[Inbound[GateRead]]) -> list[Rejected[GateRead]]:
        """Decide the batch; returns the conflicting duplicates (an `event_id` already seen
        with other content: a bug or tampering upstream), for the dead-letter topic. An
        identical re-send changes nothing and is not reported."""
        unique: dict[str, Inbound[GateRead]] = {}
        self._conflicts: list[Rejected[GateRead]] = []
        for item in batch:
            first = unique.setdefault(item.event.at_gate.read.event_id, item)
            if first is not item and first.event.wire != item.event.wire:
                self._conflicts.append((item, _conflict_reason(item), "conflicting_duplicate"))
        self.stats.duplicates += len(batch) - len(unique)
        async with self.stores() as store:
            decisions = await self._decide_batch(store, list(unique.values()))
        self.outbox.committed()
        await self.outbox.send(decisions)
        self.stats.published = self.outbox.published
        if self._new_alerts:
            self.alert_outbox.dirty = True
            await self.alert_outbox.drain()
        return self._conflicts  # counted with the other dead letters, by error type

    async def _decide_batch(
        self, store: GateStore, batch: list[Inbound[GateRead]]
    ) -> list[LaneDecision]:
        gate_ids = {item.event.at_gate.camera.gate_id for item in batch}
        await store.lock_gates(gate_ids)
        await self.outbox.mark_sent(store)
        existing = await store.stored_reads([i.event.at_gate.read.event_id for i in batch])
        fresh = [i for i in batch if i.event.at_gate.read.event_id not in existing]
        for item in batch:
            stored = existing.get(item.event.at_gate.read.event_id)
            if stored is not None and not _same_read(stored, item.event.wire):
                self._conflicts.append((item, _conflict_reason(item), "conflicting_duplicate"))
        await store.record_batch(  # the replay's input boundaries (services/replay)
            WORKER,
            [i.event.at_gate.read.event_id for i in fresh],
            [i.event.at_gate.read.captured_at for i in fresh],
        )
        self.stats.reads += len(fresh)
        self.stats.duplicates += len(batch) - len(fresh)
        self._new_alerts = 0
        if not fresh:
            return []
        index = await self._manifest_index(store, fresh)
        self._alone: dict[str, MatchResult] = {}
        fresh = await self._resolve(store, fresh, index)
        tracks = await store.tracks(
            {(i.event.at_gate.camera.gate_id, i.event.at_gate.plate) for i in fresh}
        )
        decisions: list[LaneDecision] = []
        visit_of_read: dict[str, str] = {}
        reads = {i.event.at_gate.read.event_id: i.event.at_gate.read for i in fresh}
        for gate_id in sorted(gate_ids):
            gate_reads = [i for i in fresh if i.event.at_gate.camera.gate_id == gate_id]
            gate = self.gates[gate_id]
            grouping = group_reads(
                [i.event.at_gate for i in gate_reads], tracks, window=gate.visit_window
            )
            visit_of_read.update(grouping.visit_of_read)
            decisions += await self._decide_visits(store, gate, grouping, index, reads)
            await self._save_visits(store, grouping)
        await store.add_reads([_read_row(i, visit_of_read) for i in fresh])
        await store.add_decisions(decisions)
        await self._expire_no_shows(store, fresh)
        alerts, held = await self.alert_step.run(
            store, clocks=_gate_clocks(fresh), decided=decisions
        )
        self._new_alerts = len(alerts)
        return decisions + held

    async def _expire_no_shows(self, store: GateStore, fresh: Sequence[Inbound[GateRead]]) -> None:
        """Bookings whose slot ended more than the gate's grace before the gate's clock
        become no-shows. The gate's clock is event time, the newest read of this batch at
        that gate, so a replay marks the same bookings at the same point; it runs after the
        batch's arrivals, so a truck that came late in this batch is `lost_late`, not a
        no-show."""
        for gate_id, now in sorted(_gate_clocks(fresh).items()):
            rules = self.gates[gate_id].booking
            if rules is None:
                continue
            marked = await store.expire_bookings(gate_id=gate_id, now=now, grace=rules.grace)
            if marked:
                log.info("no-shows marked at %s (gate time %s): %s", gate_id, now, marked)

    async def _manifest_index(
        self, store: GateStore, batch: Sequence[Inbound[GateRead]]
    ) -> PlateIndex:
        """The open manifests any text of the batch's reads may be a misreading of, in two
        look-ups: by each text's folded key, then by the near keys (one edit further) of the
        reads for which the first did not settle it (`near_keys_needed`)."""
        ended_after = min(i.event.at_gate.read.captured_at for i in batch) - MANIFEST_LOOKBACK
        reads = [i.event.at_gate for i in batch]
        folded = {folded_key(t.text) for r in reads for t in read_texts(r.read)}
        found = await store.manifests_for_keys(folded, ended_after=ended_after)
        index = PlateIndex(found)
        near: set[str] = set()
        for r in reads:
            near |= near_keys_needed(
                r.read, index, direction=r.camera.direction, now=r.read.captured_at
            )
        if not near:
            return index
        index.add(await store.manifests_for_keys(near, ended_after=ended_after))
        return index

    async def _resolve(
        self, store: GateStore, batch: list[Inbound[GateRead]], index: PlateIndex
    ) -> list[Inbound[GateRead]]:
        """The batch with each read's plate resolved to its truck (`lanes.resolve`)."""
        resolved: list[Inbound[GateRead]] = []
        for gate_id in sorted({i.event.at_gate.camera.gate_id for i in batch}):
            items = [i for i in batch if i.event.at_gate.camera.gate_id == gate_id]
            window = self.gates[gate_id].visit_window
            times = [i.event.at_gate.read.captured_at for i in items]
            recent = await store.recent_visits(
                gate_id, since=min(times) - window, until=max(times) + window
            )
            found = resolve_reads(
                [(i.event.at_gate.read, i.event.at_gate.camera) for i in items],
                matcher=self.matcher,
                index=index,
                recent=recent,
                window=window,
            )
            resolved += [
                replace(i, event=replace(i.event, at_gate=r.at_gate))
                for i, r in zip(items, found, strict=True)
            ]
            self._alone.update((r.at_gate.read.event_id, r.match) for r in found)
        return resolved

    async def _decide_visits(
        self,
        store: GateStore,
        gate: Gate,
        grouping: Grouping,
        index: PlateIndex,
        reads: Mapping[str, PlateRead],
    ) -> list[LaneDecision]:
        visits = grouping.new_visits
        if not visits:
            return []
        self.stats.visits += len(visits)
        ordered = sorted(visits, key=lambda v: (v.last_seen_at, v.visit_id))
        matches = [self._match(visit, index, reads) for visit in ordered]
        booked = await self._bookings(store, gate, ordered, matches)
        board = await store.board(gate)
        decisions = []
        for visit, match in zip(ordered, matches, strict=True):
            now = visit.last_seen_at
            board = settle(board, gate, now=now)
            slot = booked.get(match.manifest.manifest_id) if match.manifest else None
            booking = BookingStatus.WALK_IN
            if slot is not None and gate.booking is not None and slot.status == BookingState.ACTIVE:
                booking = arrival_status(
                    slot.slot_start, slot.slot_end, visit.first_seen_at, rules=gate.booking
                )
            decision, board = decide_with_board(
                visit, match, gate=gate, board=board, policy=self.policy, booking=booking, now=now
            )
            decisions.append(decision)
            self.stats.decisions[decision.outcome.value] += 1
        await store.save_board(gate.gate_id, board, now=ordered[-1].last_seen_at)
        used = [d.manifest_id for d in decisions if d.manifest_id and d.outcome.value == "assigned"]
        if used and booked:
            await store.mark_used([m for m in used if m in booked], at=ordered[-1].last_seen_at)
        return decisions

    def _match(
        self, visit: Visit, index: PlateIndex, reads: Mapping[str, PlateRead]
    ) -> MatchResult:
        """The visit's reads matched together; a visit of one read reuses that read's match
        from its resolution (the same read, direction, index and time: the same answer)."""
        if len(visit.read_event_ids) == 1:
            (event_id,) = visit.read_event_ids
            alone = self._alone.get(event_id)
            if alone is not None and reads[event_id].captured_at == visit.last_seen_at:
                return alone
        return self.matcher.match(
            [reads[e] for e in visit.read_event_ids],
            direction=visit.direction,
            index=index,
            now=visit.last_seen_at,
        )

    async def _bookings(
        self,
        store: GateStore,
        gate: Gate,
        visits: Sequence[Visit],
        matches: Sequence[MatchResult],
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
        # one look-up at the earliest arrival; only a truck past its grace is looked at again
        # at its own arrival time (which marks its booking lost)
        found = await store.booking_for_arrival(
            list(arrivals), at=min(arrivals.values()), grace=gate.booking.grace
        )
        for manifest_id, slot in list(found.items()):
            if is_lost(slot.slot_end, arrivals[manifest_id], rules=gate.booking):
                found |= await store.booking_for_arrival(
                    [manifest_id], at=arrivals[manifest_id], grace=gate.booking.grace
                )
        return found

    async def _save_visits(self, store: GateStore, grouping: Grouping) -> None:
        await store.add_visits([_visit_row(v, grouping.tracks) for v in grouping.new_visits])
        current = {t.visit_id: t for t in grouping.tracks.values()}
        await store.update_visits(
            [
                {
                    "visit_id": vid,
                    "first_seen_at": current[vid].first_seen_at,
                    "last_seen_at": current[vid].last_seen_at,
                    "read_count": current[vid].read_count,
                }
                for vid in sorted(grouping.extended)
                if vid in current
            ]
        )
        await store.save_tracks(grouping.tracks.values())

    # -- outbox -------------------------------------------------------------------------
    async def publish_outbox(self) -> int:
        """Publish every decision not yet on Kafka (left by a crash or a failed send)."""
        sent = await self.outbox.drain()
        self.stats.published = self.outbox.published
        return sent

    async def idle(self) -> None:
        await self.publish_outbox()
        await self.alert_outbox.drain()


def _gate_clocks(fresh: Sequence[Inbound[GateRead]]) -> dict[str, datetime]:
    """Each gate's clock after the batch: its newest read's event time."""
    latest: dict[str, datetime] = {}
    for item in fresh:
        gate_id, at = item.event.at_gate.camera.gate_id, item.event.at_gate.read.captured_at
        latest[gate_id] = max(at, latest.get(gate_id, at))
    return latest


def _same_read(stored: Mapping[str, Any], wire: PlateReadV1) -> bool:
    """The stored read and this one say the same (a re-send), compared as values: the same
    instant in another offset, or fields in another order, is the same read."""
    try:
        return PlateReadV1.model_validate(stored) == wire
    except ValueError:  # a payload stored by an older version that no longer validates
        return True


def _conflict_reason(item: Inbound[GateRead]) -> str:
    return (
        f"conflicting-duplicate: event_id {item.event.at_gate.read.event_id!r} was already "
        "received with other content (the first one was kept)"
    )


def _read_row(item: Inbound[GateRead], visit_of_read: Mapping[str, str]) -> dict[str, Any]:
    read = item.event.at_gate
    return {
        "event_id": read.read.event_id,
        "camera_id": read.read.camera_id,
        "gate_id": read.camera.gate_id,
        "captured_at": read.read.captured_at,
        "plate_text": read.read.plate_text,
        "plate": read.plate,
        "confidence": read.read.confidence,
        "payload": item.event.wire.model_dump(mode="json"),
        "visit_id": visit_of_read[read.read.event_id],
        "source_topic": item.topic,
        "source_partition": item.partition,
        "source_offset": item.offset,
        "received_at": clock.wall_clock(),
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
