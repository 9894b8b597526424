"""Call-forward's use case (issue 23), written once: step the waiting areas on a batch of
plate reads.

A read at a waiting area's camera (the area's `camera` in the gate file) of a plate filed
on an open manifest of the area's direction, customs-cleared, puts the truck in the area's
queue (with its booking, when the manifest has an active one: its page is the booking's);
a read of a queued plate at any other camera of the gate is the truck reaching the gate.
Each read steps the gate's desk (`CallDesk`: the one `CallForwardPolicy`, as the
simulation) at the read's captured_at (event time only; a read later than one of another
camera already taken is taken at the queue's time) on the orchestrator's newest board; the
desk publishes calls, recalls and lost places as it decides them.

After the batch the queue of each gate it touched and every page it touched are saved in
the same transaction (`CallForwardStore`); a handler made afresh (a restart) reloads the
queue from there. Reads at cameras of no gate are not call-forward's (the decider
dead-letters them). The Kafka consumer (services/workers/callforward.py) calls it; the
composition root builds it on the database (services/bootstrap)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lanes.board import Board
from lanes.bookings import arrival_status
from lanes.model import BookingStatus, Camera, Gate, WaitingArea
from lanes.plates import normalise_plate
from lanes.policy.callforward import CallEvent, PlaceLost
from lanes.policy.truck import truck_from_manifest
from lanes.similarity import folded_key
from services.ports import CallDesk, CallForwardStore, CallForwardStores, NewCallDesk, QueueSnapshot

MANIFEST_LOOKBACK = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class AreaRead:
    """One plate read, as call-forward needs it."""

    event_id: str
    camera_id: str
    plate_text: str
    captured_at: datetime


@dataclass(frozen=True, slots=True)
class StepWaitingAreas:
    """Step the waiting areas on `reads` (any order: taken by captured_at, then event id).
    `received_at`: the wall clock, kept as the pages' and the queue's update time; it
    decides nothing."""

    reads: tuple[AreaRead, ...]
    received_at: datetime


@dataclass
class CallForwardStats:
    reads: int = 0
    entered: int = 0
    at_gate: int = 0
    events: int = 0


@dataclass
class _GateDesk:
    desk: CallDesk
    plates: dict[str, str] = field(default_factory=dict)  # plate -> visit id, queued trucks
    pages: dict[str, str] = field(default_factory=dict)  # visit id -> page key
    stepped_to: datetime | None = None


class StepWaitingAreasHandler:
    """Keeps each gate's desk across batches (its queue, the plates and pages of the
    queued trucks); the store has them after each batch."""

    def __init__(
        self, *, uow: CallForwardStores, gates: Mapping[str, Gate], new_desk: NewCallDesk
    ) -> None:
        self.uow, self.gates, self.new_desk = uow, gates, new_desk
        self.stats = CallForwardStats()
        self._desks: dict[str, _GateDesk] = {}
        self._cameras: dict[str, tuple[Camera, WaitingArea | None]] = {}
        for gate in gates.values():
            areas = {a.camera_id: a for a in gate.waiting_areas}
            for camera in gate.cameras:
                self._cameras[camera.camera_id] = (camera, areas.get(camera.camera_id))

    async def __call__(self, cmd: StepWaitingAreas) -> None:
        reads = sorted(
            (r for r in cmd.reads if r.camera_id in self._cameras),
            key=lambda r: (r.captured_at, r.event_id),
        )
        self.stats.reads += len(reads)
        if not reads:
            return
        async with self.uow() as store:
            touched: set[str] = set()
            for read in reads:
                camera, area = self._cameras[read.camera_id]
                gate = self.gates[camera.gate_id]
                desk = await self._desk(store, gate)
                touched.add(gate.gate_id)
                await self._read(store, desk, gate, read, area)
            for gate_id in sorted(touched):
                await self._save(store, gate_id, now=cmd.received_at)

    async def _read(
        self,
        store: CallForwardStore,
        desk: _GateDesk,
        gate: Gate,
        read: AreaRead,
        area: WaitingArea | None,
    ) -> None:
        plate = normalise_plate(read.plate_text)
        at = _step_time(desk, read)
        board = await store.board(gate)
        if area is not None:
            if plate in desk.plates:
                events = await desk.desk.step(now=at, board=board)
            else:
                events = await self._entered(store, desk, gate, area, read, board)
        elif (visit_id := desk.plates.pop(plate, None)) is not None:
            desk.desk.board = board
            events = await desk.desk.reached_gate(visit_id, at=at)
            self.stats.at_gate += 1
        else:
            events = await desk.desk.step(now=at, board=board)
        for event in events:
            if isinstance(event, PlaceLost):
                desk.plates = {p: v for p, v in desk.plates.items() if v != event.visit_id}
        self.stats.events += len(events)
        desk.stepped_to = at

    async def _entered(  # noqa: PLR0917 (one read's whole context)
        self,
        store: CallForwardStore,
        desk: _GateDesk,
        gate: Gate,
        area: WaitingArea,
        read: AreaRead,
        board: Board,
    ) -> list[CallEvent]:
        at, plate = read.captured_at, normalise_plate(read.plate_text)
        found = await store.manifests_for_keys(
            {folded_key(plate)}, ended_after=at - MANIFEST_LOOKBACK
        )
        mine = [
            m
            for m in found
            if m.direction is area.direction
            and plate in {normalise_plate(m.tractor_plate), normalise_plate(m.trailer_plate or "")}
        ]
        now = _step_time(desk, read)
        if len(mine) != 1:  # none, or more than one: the gate's decider sorts it out
            return await desk.desk.step(now=now, board=board)
        manifest = mine[0]
        visit_id = f"wa-{read.event_id}"
        page_key, status = await self._booking(store, gate, manifest.manifest_id, at)
        truck = truck_from_manifest(visit_id, manifest, arrived_at=at, booking=status)
        if truck is None:  # customs pending: not called yet (a later read tries again)
            return await desk.desk.step(now=now, board=board)
        desk.plates[plate] = visit_id
        desk.pages[visit_id] = page_key or visit_id
        desk.desk.board = board
        self.stats.entered += 1
        return await desk.desk.entered(truck, at=now)

    async def _booking(
        self, store: CallForwardStore, gate: Gate, manifest_id: str, at: datetime
    ) -> tuple[str | None, BookingStatus]:
        """The booking's page key (None: a walk-in's page is its visit's) and the truck's
        arrival status."""
        if gate.booking is None:
            return None, BookingStatus.WALK_IN
        booking = await store.active_booking(gate.gate_id, manifest_id)
        if booking is None:
            return None, BookingStatus.WALK_IN
        status = arrival_status(booking.slot_start, booking.slot_end, at, rules=gate.booking)
        return booking.page_key, status

    async def _desk(self, store: CallForwardStore, gate: Gate) -> _GateDesk:
        found = self._desks.get(gate.gate_id)
        if found is not None:
            return found
        state = _GateDesk(self.new_desk(gate, await store.board(gate)))
        saved = await store.queue(gate.gate_id)
        if saved is not None:
            state.desk.queue = saved.queue
            state.plates = dict(saved.plates)
            state.pages = dict(saved.pages)
            state.stepped_to = saved.stepped_to
        self._desks[gate.gate_id] = state
        return state

    async def _save(self, store: CallForwardStore, gate_id: str, *, now: datetime) -> None:
        state = self._desks[gate_id]
        desk = state.desk
        queued = {w.truck.visit_id for w in desk.queue.waiting}
        pages = {v: k for v, k in state.pages.items() if v in queued}
        snapshot = QueueSnapshot(
            queue=desk.queue,
            plates={p: v for p, v in state.plates.items() if v in queued},
            pages=pages,
            stepped_to=state.stepped_to,
        )
        states = desk.page_states()
        await store.save_pages(
            {state.pages.get(v, v): data for v, data in states.items()},
            visits={state.pages.get(v, v): v for v in states},
            now=now,
        )
        desk.pages_written()  # written: the next batch writes only what changes
        state.pages = pages
        await store.save_queue(gate_id, snapshot, now=now)


def _step_time(desk: _GateDesk, read: AreaRead) -> datetime:
    """The event time to step the queue to: the read's, never before what the queue was
    already stepped to (reads of other cameras come on other partitions, a little out of
    order; a late read still counts, at the queue's time)."""
    at = read.captured_at
    return at if desk.stepped_to is None else max(at, desk.stepped_to)
