"""Call-forward's unit of work on the database (`CallForwardStore`): the orchestrator's
boards, the manifests' plate keys, the gate's active bookings, the queue of each gate
(`callforward_queues`: one row a gate, its snapshot as JSON and the event time it was
stepped to), the drivers' pages (`driver_pages`) and the calls' outbox (`call_events`), in
one transaction. The use case is services/service_layer/callforward.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.board import Board
from lanes.board_json import _truck_json, _truck_parse
from lanes.model import Gate, Manifest
from lanes.policy.callforward import (
    AreaQueue,
    CalledPlace,
    CallEvent,
    CallKind,
    TruckCalled,
    Waiting,
)
from services.db.boards import load_gate_board
from services.db.booking_tables import BookingRow
from services.db.bookings import ACTIVE
from services.db.call_tables import CallEventRow, CallForwardQueueRow
from services.db.called import save_called
from services.db.driver_pages import booking_page_key
from services.db.engine import transactions
from services.db.manifests import get_manifest, manifests_for_keys
from services.drivers.store import save_pages
from services.ports import ArrivingBooking, CallForwardStores, QueueSnapshot
from streams.calls import call_to_wire


async def load_queue(session: AsyncSession, gate_id: str) -> QueueSnapshot | None:
    """The gate's queue as call-forward saved it last; None before its first save."""
    row = await session.get(CallForwardQueueRow, gate_id)
    if row is None:
        return None
    return QueueSnapshot(
        queue=queue_from_json(row.snapshot["queue"]),
        plates=dict(row.snapshot["plates"]),
        pages=dict(row.snapshot["pages"]),
        stepped_to=row.event_time,
        reached={
            m: datetime.fromisoformat(at) for m, at in row.snapshot.get("reached", {}).items()
        },
    )


class SqlCallForwardStore:
    def __init__(self, session: AsyncSession, secret: bytes) -> None:
        self.session, self.secret = session, secret

    async def board(self, gate: Gate) -> Board:
        return await load_gate_board(self.session, gate)

    async def manifests_for_keys(
        self, keys: Iterable[str], *, ended_after: datetime
    ) -> list[Manifest]:
        return await manifests_for_keys(session=self.session, keys=keys, ended_after=ended_after)

    async def manifest(self, firm_id: str, manifest_id: str) -> Manifest | None:
        found = await get_manifest(session=self.session, firm_id=firm_id, manifest_id=manifest_id)
        return None if found is None else found.manifest

    async def active_booking(self, gate_id: str, manifest_id: str) -> ArrivingBooking | None:
        row = await self.session.scalar(
            select(BookingRow)
            .where(
                BookingRow.manifest_id == manifest_id,
                BookingRow.gate_id == gate_id,
                BookingRow.status == ACTIVE,
            )
            .order_by(BookingRow.slot_start)
            .limit(1)
        )
        if row is None:
            return None
        return ArrivingBooking(
            booking_id=row.booking_id,
            page_key=booking_page_key(row.booking_id),
            slot_start=row.slot_start,
            slot_end=row.slot_end,
        )

    async def queue(self, gate_id: str) -> QueueSnapshot | None:
        return await load_queue(self.session, gate_id)

    async def save_queue(self, gate_id: str, snapshot: QueueSnapshot, *, now: datetime) -> None:
        data = {
            "queue": queue_to_json(snapshot.queue),
            "plates": dict(snapshot.plates),
            "pages": dict(snapshot.pages),
            "reached": {m: at.isoformat() for m, at in snapshot.reached.items()},
        }
        row = await self.session.get(CallForwardQueueRow, gate_id)
        if row is None:
            self.session.add(
                CallForwardQueueRow(
                    gate_id=gate_id, snapshot=data, event_time=snapshot.stepped_to, updated_at=now
                )
            )
        else:
            row.snapshot = data
            row.event_time = snapshot.stepped_to
            row.updated_at = now

    async def save_called(
        self,
        gate_id: str,
        calls: Sequence[CalledPlace],
        *,
        arrived: Iterable[str],
        purge_before: datetime | None,
        now: datetime,
        reached: Sequence[CalledPlace] = (),
    ) -> None:
        await save_called(
            session=self.session,
            gate_id=gate_id,
            calls=calls,
            arrived=arrived,
            purge_before=purge_before,
            now=now,
            reached=reached,
        )

    async def save_pages(
        self,
        states: Mapping[str, Mapping[str, Any]],
        *,
        visits: Mapping[str, str],
        now: datetime,
    ) -> None:
        await save_pages(
            session=self.session, secret=self.secret, states=states, now=now, visits=visits
        )

    async def add_calls(self, calls: Sequence[CallEvent], *, now: datetime) -> list[CallEvent]:
        wires = [call_to_wire(c) for c in calls]
        if not wires:
            return []
        have = set(
            await self.session.scalars(
                select(CallEventRow.call_id).where(
                    CallEventRow.call_id.in_([w.call_id for w in wires])
                )
            )
        )
        added: list[CallEvent] = []
        for call, wire in zip(calls, wires, strict=True):  # one by one: `seq` in their order
            if wire.call_id in have:
                continue
            have.add(wire.call_id)
            await self.session.execute(
                insert(CallEventRow).values(
                    call_id=wire.call_id,
                    visit_id=wire.visit_id,
                    payload=wire.model_dump(mode="json"),
                    created_at=now,
                    published_at=None,
                )
            )
            added.append(call)
        return added

    async def unpublished_calls(self, limit: int) -> list[dict[str, Any]]:
        payloads = await self.session.scalars(
            select(CallEventRow.payload)
            .where(CallEventRow.published_at.is_(None))
            .order_by(CallEventRow.seq)
            .limit(limit)
        )
        return [dict(p) for p in payloads]

    async def mark_calls_published(self, call_ids: Sequence[str], *, at: datetime) -> None:
        ids = sorted(set(call_ids))
        if ids:
            await self.session.execute(
                update(CallEventRow).where(CallEventRow.call_id.in_(ids)).values(published_at=at)
            )

    async def unmark_calls_published_since(self, since: datetime) -> int:
        result = await self.session.execute(
            update(CallEventRow).where(CallEventRow.published_at >= since).values(published_at=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def purge_published_calls(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(CallEventRow).where(CallEventRow.published_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def sql_callforward_stores(
    sessions: async_sessionmaker[AsyncSession], *, secret: bytes
) -> CallForwardStores:
    """Opens a transaction: committed when the block ends normally, rolled back else; new
    drivers' pages are signed with `secret`."""
    return transactions(sessions, lambda session: SqlCallForwardStore(session, secret))


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
