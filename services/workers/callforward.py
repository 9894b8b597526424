"""The call-forward worker (issue 23): `borderflow worker callforward`.

It reads `borderflow.plate-reads` in a consumer group of its own. A read at a waiting
area's camera (the area's `camera` in the gate file) of a plate filed on an open manifest
of the area's direction, customs-cleared, puts the truck in the area's queue (with its
booking, when the manifest has an active one: its page is the booking's); a read of a
queued plate at any other camera of the gate is the truck reaching the gate. Each read
steps `CallForwardDesk` (the one `CallForwardPolicy`, as the simulation) at the read's
captured_at (event time only; a read later than one of another camera already weighed is
taken at the queue's time) on the orchestrator's newest board, which publishes calls,
recalls and lost places on `borderflow.calls` (keyed by visit id; call ids stable).

After each batch the queue is saved to `callforward_queues` (one row a gate, with the
event time it was stepped to) and every page it touched to `driver_pages`, in one
transaction; the consumer's offsets are committed after that. A restart reloads the
queue from the database; a batch replayed after a crash republishes its calls with the
same call ids, which the notifier keeps from being sent twice. Reads at unknown cameras
are left to the decider (which dead-letters them)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.board import Board
from lanes.board_json import _truck_json, _truck_parse
from lanes.bookings import arrival_status
from lanes.model import BookingStatus, Camera, Gate, WaitingArea
from lanes.plates import normalise_plate
from lanes.policy.callforward import AreaQueue, CallKind, PlaceLost, TruckCalled, Waiting
from lanes.policy.truck import truck_from_manifest
from lanes.similarity import folded_key
from services.db.boards import load_gate_board
from services.db.booking_tables import BookingRow
from services.db.bookings import ACTIVE
from services.db.call_tables import CallForwardQueueRow
from services.db.manifests import manifests_for_keys
from services.drivers.desk import CallForwardDesk, Publish
from services.drivers.hub import DriverHub
from services.drivers.store import booking_page_key, save_pages
from streams import clock
from streams.codec import decode_plate_read
from streams.events import PlateReadV1
from streams.runtime import Inbound

log = logging.getLogger(__name__)

MANIFEST_LOOKBACK = timedelta(days=2)


@dataclass
class CallForwardStats:
    reads: int = 0
    entered: int = 0
    at_gate: int = 0
    events: int = 0


@dataclass
class _GateDesk:
    desk: CallForwardDesk
    plates: dict[str, str] = field(default_factory=dict)  # plate -> visit id, queued trucks
    pages: dict[str, str] = field(default_factory=dict)  # visit id -> page key
    stepped_to: datetime | None = None


class CallForwardWorker:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        gates: Mapping[str, Gate],
        publish: Publish,
        secret: bytes,
    ) -> None:
        self.sessions, self.gates, self.publish, self.secret = sessions, gates, publish, secret
        self.stats = CallForwardStats()
        self._desks: dict[str, _GateDesk] = {}
        self._cameras: dict[str, tuple[Camera, WaitingArea | None]] = {}
        for gate in gates.values():
            areas = {a.camera_id: a for a in gate.waiting_areas}
            for camera in gate.cameras:
                self._cameras[camera.camera_id] = (camera, areas.get(camera.camera_id))

    def decode(self, record: ConsumerRecord) -> PlateReadV1:
        return decode_plate_read(record.value)  # malformed: the runtime dead-letters it

    async def handle(self, batch: Sequence[Inbound[PlateReadV1]]) -> None:
        reads = sorted(
            (i.event for i in batch if i.event.camera_id in self._cameras),
            key=lambda r: (r.captured_at, r.event_id),
        )
        self.stats.reads += len(reads)
        if not reads:
            return
        async with self.sessions() as session:
            touched: set[str] = set()
            for read in reads:
                camera, area = self._cameras[read.camera_id]
                gate = self.gates[camera.gate_id]
                desk = await self._desk(session, gate)
                touched.add(gate.gate_id)
                await self._read(session, desk, gate, read, area)
            for gate_id in sorted(touched):
                await self._save(session, self._desks[gate_id])
            await session.commit()

    async def _read(
        self,
        session: AsyncSession,
        desk: _GateDesk,
        gate: Gate,
        read: PlateReadV1,
        area: WaitingArea | None,
    ) -> None:
        plate = normalise_plate(read.plate_text)
        at = _step_time(desk, read)
        board = await load_gate_board(session, gate)
        if area is not None:
            if plate in desk.plates:
                events = await desk.desk.step(now=at, board=board)
            else:
                events = await self._entered(session, desk, gate, area, read, board)
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
        session: AsyncSession,
        desk: _GateDesk,
        gate: Gate,
        area: WaitingArea,
        read: PlateReadV1,
        board: Board,
    ) -> list[Any]:
        at, plate = read.captured_at, normalise_plate(read.plate_text)
        found = await manifests_for_keys(
            session=session, keys={folded_key(plate)}, ended_after=at - MANIFEST_LOOKBACK
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
        booking_id, status = await self._booking(session, gate, manifest.manifest_id, at)
        truck = truck_from_manifest(visit_id, manifest, arrived_at=at, booking=status)
        if truck is None:  # customs pending: not called yet (a later read tries again)
            return await desk.desk.step(now=now, board=board)
        desk.plates[plate] = visit_id
        desk.pages[visit_id] = booking_page_key(booking_id) if booking_id else visit_id
        desk.desk.board = board
        self.stats.entered += 1
        return await desk.desk.entered(truck, at=now)

    async def _booking(
        self, session: AsyncSession, gate: Gate, manifest_id: str, at: datetime
    ) -> tuple[str | None, BookingStatus]:
        if gate.booking is None:
            return None, BookingStatus.WALK_IN
        row = await session.scalar(
            select(BookingRow)
            .where(
                BookingRow.manifest_id == manifest_id,
                BookingRow.gate_id == gate.gate_id,
                BookingRow.status == ACTIVE,
            )
            .order_by(BookingRow.slot_start)
            .limit(1)
        )
        if row is None:
            return None, BookingStatus.WALK_IN
        status = arrival_status(row.slot_start, row.slot_end, at, rules=gate.booking)
        return row.booking_id, status

    async def _desk(self, session: AsyncSession, gate: Gate) -> _GateDesk:
        found = self._desks.get(gate.gate_id)
        if found is not None:
            return found
        hub = DriverHub(self.secret)
        desk = CallForwardDesk(
            gate=gate, board=await load_gate_board(session, gate), publish=self._publish, hub=hub
        )
        state = _GateDesk(desk)
        row = await session.get(CallForwardQueueRow, gate.gate_id)
        if row is not None:
            desk.queue = queue_from_json(row.snapshot["queue"])
            state.plates = dict(row.snapshot["plates"])
            state.pages = dict(row.snapshot["pages"])
            state.stepped_to = row.event_time
        self._desks[gate.gate_id] = state
        return state

    async def _publish(self, call: Any) -> None:
        await self.publish(call)

    async def _save(self, session: AsyncSession, state: _GateDesk) -> None:
        desk, hub = state.desk, state.desk.hub
        assert hub is not None
        gate_id = desk.gate.gate_id
        queued = {w.truck.visit_id for w in desk.queue.waiting}
        pages = {v: k for v, k in state.pages.items() if v in queued}
        snapshot = {
            "queue": queue_to_json(desk.queue),
            "plates": {p: v for p, v in state.plates.items() if v in queued},
            "pages": pages,
        }
        states = {
            state.pages.get(visit_id, visit_id): json.loads(text)
            for visit_id, text in hub.states.items()
        }
        visits = {state.pages.get(visit_id, visit_id): visit_id for visit_id in hub.states}
        await save_pages(
            session=session,
            secret=self.secret,
            states=states,
            now=clock.wall_clock(),
            visits=visits,
        )
        hub.publish({}, keep=False)  # written: the next batch writes only what changes
        state.pages = pages
        row = await session.get(CallForwardQueueRow, gate_id)
        if row is None:
            session.add(
                CallForwardQueueRow(
                    gate_id=gate_id,
                    snapshot=snapshot,
                    event_time=state.stepped_to,
                    updated_at=clock.wall_clock(),
                )
            )
        else:
            row.snapshot = snapshot
            row.event_time = state.stepped_to
            row.updated_at = clock.wall_clock()


def _step_time(desk: _GateDesk, read: PlateReadV1) -> datetime:
    """The event time to step the queue to: the read's, never before what the queue was
    already stepped to (reads of other cameras come on other partitions, a little out of
    order; a late read still counts, at the queue's time)."""
    at = read.captured_at
    return at if desk.stepped_to is None else max(at, desk.stepped_to)


# -- the queue as JSON (the snapshot) ---------------------------------------------------


def _time(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _call_json(c: TruckCalled) -> dict[str, Any]:
    return {
        "call_id": c.call_id,
        "visit_id": c.visit_id,
        "gate_id": c.gate_id,
        "area_id": c.area_id,
        "kind": c.kind.value,
        "called_at": c.called_at.isoformat(),
        "due_at": c.due_at.isoformat(),
        "deadline": c.deadline.isoformat(),
        "lane_id": c.lane_id,
        "carrier_slot": c.carrier_slot,
        "expected_start_at": _time(c.expected_start_at),
        "reason": c.reason,
        "manifest_id": c.manifest_id,
    }


def _call_parse(d: dict[str, Any]) -> TruckCalled:
    return TruckCalled(
        call_id=d["call_id"],
        visit_id=d["visit_id"],
        gate_id=d["gate_id"],
        area_id=d["area_id"],
        kind=CallKind(d["kind"]),
        called_at=datetime.fromisoformat(d["called_at"]),
        due_at=datetime.fromisoformat(d["due_at"]),
        deadline=datetime.fromisoformat(d["deadline"]),
        lane_id=d["lane_id"],
        carrier_slot=d["carrier_slot"],
        expected_start_at=_parse(d["expected_start_at"]),
        reason=d["reason"],
        manifest_id=d["manifest_id"],
    )


def queue_to_json(queue: AreaQueue) -> list[dict[str, Any]]:
    return [
        {
            "truck": _truck_json(w.truck),
            "area_id": w.area_id,
            "entered_at": w.entered_at.isoformat(),
            "call": None if w.call is None else _call_json(w.call),
            "calls": w.calls,
            "first_called_at": _time(w.first_called_at),
        }
        for w in queue.waiting
    ]


def queue_from_json(data: list[dict[str, Any]]) -> AreaQueue:
    return AreaQueue(
        tuple(
            Waiting(
                truck=_truck_parse(d["truck"]),
                area_id=d["area_id"],
                entered_at=datetime.fromisoformat(d["entered_at"]),
                call=None if d["call"] is None else _call_parse(d["call"]),
                calls=int(d["calls"]),
                first_called_at=_parse(d["first_called_at"]),
            )
            for d in data
        )
    )
