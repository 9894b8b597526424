"""Slot bookings in the database, keyword-only session, in the caller's transaction.

Capacity is never checked then written: a slot is taken by one conditional UPDATE of its
`slot_counts` row (`booked < capacity`, and for non-perishable cargo `booked -
booked_perishable < capacity - reserved`), so concurrent requests cannot overbook on either
database; one active booking a manifest is a partial unique index. Every change writes a
booking event to the outbox (`booking_events`) in the same transaction. A refusal raises
BookingRefused: the caller rolls back, which undoes whatever the request had done."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import CursorResult, Table, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.bookings import BookingState, capacity, check_window, slot_of
from lanes.model import Direction, Gate
from services.db.booking_tables import (
    BookingEventRow,
    BookingRow,
    SlotCountRow,
)
from services.db.repository import _insert, is_postgres
from services.db.tables import ManifestRow

ACTIVE = BookingState.ACTIVE.value


def table_of(row: type[Any]) -> Table:
    return cast(Table, row.__table__)


class BookingRefused(Exception):
    """An expected refusal: `kind` (manifest_not_found, booking_not_found, window,
    already_booked, slot_full, not_active, no_bookings), the field at fault and why."""

    def __init__(self, kind: str, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.kind, self.field, self.detail = kind, field, detail


@dataclass(frozen=True, slots=True)
class Booking:
    booking_id: str
    firm_id: str
    manifest_id: str
    gate_id: str
    direction: Direction
    slot_start: datetime
    slot_end: datetime
    perishable: bool
    status: BookingState
    created_at: datetime
    updated_at: datetime
    version: int


class BookedSlot(NamedTuple):
    slot_start: datetime
    slot_end: datetime
    status: BookingState  # ACTIVE, or LOST_LATE when the arrival came after the grace


def booking_from_row(row: BookingRow) -> Booking:
    return Booking(
        booking_id=row.booking_id,
        firm_id=row.firm_id,
        manifest_id=row.manifest_id,
        gate_id=row.gate_id,
        direction=Direction(row.direction),
        slot_start=row.slot_start,
        slot_end=row.slot_end,
        perishable=row.perishable,
        status=BookingState(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


def event_payload(booking: Booking) -> dict[str, Any]:
    return {
        "booking_id": booking.booking_id,
        "firm_id": booking.firm_id,
        "manifest_id": booking.manifest_id,
        "gate_id": booking.gate_id,
        "direction": booking.direction.value,
        "slot_start": booking.slot_start.isoformat(),
        "slot_end": booking.slot_end.isoformat(),
        "perishable": booking.perishable,
        "status": booking.status.value,
        "version": booking.version,
    }


async def begin_booking_write(*, session: AsyncSession) -> None:
    """SQLite: take the write lock up front (BEGIN IMMEDIATE), so concurrent writers queue
    instead of failing on a lock upgrade. PostgreSQL: row locks do it; nothing to do."""
    if not is_postgres(session):
        await session.execute(text("BEGIN IMMEDIATE"))


# --- slots -----------------------------------------------------------------------------------


async def _take(
    session: AsyncSession,
    booking: Booking,
    slot_start: datetime,
    total: int,
    general: int,
) -> bool:
    """One place in the slot, or False when it is full: a single upsert whose update runs
    only while there is room (`booked < total`, and for non-perishable cargo `booked -
    booked_perishable < general`), atomic on both databases (the row is locked on
    PostgreSQL, the database on SQLite)."""
    if total < 1 or (not booking.perishable and general < 1):
        return False
    t = table_of(SlotCountRow)
    room = t.c.booked < total
    if not booking.perishable:
        room = room & (t.c.booked - t.c.booked_perishable < general)
    perishable = int(booking.perishable)
    stmt = (
        _insert(session, t)
        .values(
            gate_id=booking.gate_id,
            direction=booking.direction.value,
            slot_start=slot_start,
            booked=1,
            booked_perishable=perishable,
        )
        .on_conflict_do_update(
            index_elements=["gate_id", "direction", "slot_start"],
            set_={
                "booked": t.c.booked + 1,
                "booked_perishable": t.c.booked_perishable + perishable,
            },
            where=room,
        )
        .returning(t.c.booked)
    )
    return await session.scalar(stmt) is not None


async def _release(session: AsyncSession, booking: Booking) -> None:
    t = table_of(SlotCountRow)
    await session.execute(
        update(t)
        .where(
            t.c.gate_id == booking.gate_id,
            t.c.direction == booking.direction.value,
            t.c.slot_start == booking.slot_start,
        )
        .values(
            booked=t.c.booked - 1,
            booked_perishable=t.c.booked_perishable - int(booking.perishable),
        )
    )


async def _take_or_refuse(
    session: AsyncSession, booking: Booking, gate: Gate, slot_start: datetime
) -> None:
    assert gate.booking is not None
    cap = capacity(slot_start, booking.direction, gate.booking, gate.utc_offset)
    if not await _take(session, booking, slot_start, cap.total, cap.general):
        part = (
            f"capacity {cap.total}"
            if booking.perishable
            else f"capacity {cap.total}, of which {cap.reserved} kept for perishable cargo"
        )
        raise BookingRefused(
            "slot_full",
            "slot_start",
            f"slot full: the {booking.direction.value} slot at {slot_start.isoformat()} "
            f"({part}) has no room left for this manifest; choose another slot",
        )


async def slot_usage(
    *, session: AsyncSession, gate_id: str, direction: Direction, start: datetime, end: datetime
) -> dict[datetime, tuple[int, int]]:
    """(booked, booked_perishable) of each slot starting in [start, end) with bookings."""
    t = table_of(SlotCountRow)
    rows = await session.execute(
        select(t.c.slot_start, t.c.booked, t.c.booked_perishable).where(
            t.c.gate_id == gate_id,
            t.c.direction == direction.value,
            t.c.slot_start >= start,
            t.c.slot_start < end,
        )
    )
    return {r.slot_start: (r.booked, r.booked_perishable) for r in rows}


# --- bookings --------------------------------------------------------------------------------


def _check(gate: Gate, slot_start: datetime, now: datetime) -> datetime:
    if gate.booking is None:
        raise BookingRefused("no_bookings", "gate", f"gate {gate.gate_id!r} takes no bookings")
    problems = check_window(slot_start, rules=gate.booking, utc_offset=gate.utc_offset, now=now)
    if problems:
        raise BookingRefused("window", problems[0].field, "; ".join(p.reason for p in problems))
    return slot_of(slot_start, gate.booking, gate.utc_offset)[1]


async def record_event(session: AsyncSession, booking: Booking, type_: str, **extra: Any) -> None:
    values: dict[str, Any] = {
        "event_id": uuid.uuid4().hex,
        "booking_id": booking.booking_id,
        "type": type_,
        "payload": event_payload(booking) | extra,
        "occurred_at": booking.updated_at,
        "published_at": None,
    }
    if not is_postgres(session):  # PostgreSQL numbers them from its sequence
        values["seq"] = await visible_booking_seq(session) + 1
    await session.execute(insert(table_of(BookingEventRow)).values(**values))


async def visible_booking_seq(session: AsyncSession) -> int:
    """The highest booking event `seq` this transaction sees (0: none yet)."""
    found = await session.scalar(select(func.max(BookingEventRow.seq)))
    return int(found or 0)


async def book(
    *,
    session: AsyncSession,
    firm_id: str,
    manifest_id: str,
    gate: Gate,
    slot_start: datetime,
    now: datetime,
) -> Booking:
    """Book the firm's manifest into the slot starting at `slot_start` (direction and cargo
    from the manifest); BookingRefused says why not."""
    m = table_of(ManifestRow)
    manifest = (
        await session.execute(
            select(m.c.direction, m.c.perishable).where(
                m.c.manifest_id == manifest_id, m.c.firm_id == firm_id
            )
        )
    ).first()
    if manifest is None:  # another firm's manifest reads as missing
        raise BookingRefused("manifest_not_found", "manifest_id", f"no manifest {manifest_id!r}")
    slot_end = _check(gate, slot_start, now)
    slot_start = slot_start.astimezone(UTC)  # stored and answered in UTC, like slot_end
    booking = Booking(
        booking_id=f"bk_{uuid.uuid4().hex}",
        firm_id=firm_id,
        manifest_id=manifest_id,
        gate_id=gate.gate_id,
        direction=Direction(manifest.direction),
        slot_start=slot_start,
        slot_end=slot_end,
        perishable=bool(manifest.perishable),
        status=BookingState.ACTIVE,
        created_at=now,
        updated_at=now,
        version=1,
    )
    values = event_payload(booking) | {
        "slot_start": slot_start,
        "slot_end": slot_end,
        "created_at": now,
        "updated_at": now,
    }
    table = table_of(BookingRow)
    inserted = await session.scalar(
        _insert(session, table).values(values).on_conflict_do_nothing().returning(table.c.version)
    )
    if inserted is None:
        existing = await session.scalar(
            select(BookingRow.booking_id).where(
                BookingRow.manifest_id == manifest_id, BookingRow.status == ACTIVE
            )
        )
        raise BookingRefused(
            "already_booked",
            "manifest_id",
            f"manifest {manifest_id!r} already has an active booking ({existing}); "
            "reschedule or cancel it",
        )
    await _take_or_refuse(session, booking, gate, slot_start)
    await record_event(session, booking, "booking.created")
    return booking


async def get_booking(*, session: AsyncSession, firm_id: str, booking_id: str) -> Booking | None:
    """A firm's booking; None for a missing id and for another firm's alike."""
    row = await session.scalar(
        select(BookingRow)
        .where(BookingRow.booking_id == booking_id, BookingRow.firm_id == firm_id)
        .execution_options(populate_existing=True)
    )
    return None if row is None else booking_from_row(row)


async def list_bookings(
    *,
    session: AsyncSession,
    firm_id: str,
    limit: int,
    after: str | None = None,
    status: BookingState | None = None,
) -> list[Booking]:
    """A firm's bookings by id, after `after` (keyset), at most `limit`."""
    query = select(BookingRow).where(BookingRow.firm_id == firm_id)
    if after is not None:
        query = query.where(BookingRow.booking_id > after)
    if status is not None:
        query = query.where(BookingRow.status == status.value)
    rows = await session.scalars(query.order_by(BookingRow.booking_id).limit(limit))
    return [booking_from_row(r) for r in rows]


async def _locked(session: AsyncSession, firm_id: str, booking_id: str) -> Booking:
    row = await session.scalar(
        select(BookingRow)
        .where(BookingRow.booking_id == booking_id, BookingRow.firm_id == firm_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise BookingRefused("booking_not_found", "booking_id", f"no booking {booking_id!r}")
    return booking_from_row(row)


class ConcurrentChange(RuntimeError):
    """A booking changed between its read and its write (only possible without the write
    lock that the API and begin_write take)."""


async def save_booking(session: AsyncSession, booking: Booking, **changes: Any) -> Booking:
    """Write `changes` if the booking is still at the version read (optimistic check)."""
    t = table_of(BookingRow)
    result = await session.execute(
        update(t)
        .where(t.c.booking_id == booking.booking_id, t.c.version == booking.version)
        .values(**changes, version=t.c.version + 1)
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        raise ConcurrentChange(f"booking {booking.booking_id} changed concurrently")
    return _booking_replace(booking, changes)


def _booking_replace(booking: Booking, changes: Mapping[str, Any]) -> Booking:
    fields = {k: v for k, v in changes.items() if k != "status"}
    if "status" in changes:
        fields["status"] = BookingState(changes["status"])
    return replace(booking, **fields, version=booking.version + 1)


def _not_active(booking: Booking, what: str) -> BookingRefused:
    return BookingRefused(
        "not_active",
        "booking_id",
        f"booking {booking.booking_id!r} is {booking.status.value}: only an active booking "
        f"can be {what}",
    )


async def cancel(*, session: AsyncSession, firm_id: str, booking_id: str, now: datetime) -> Booking:
    """Cancel and release the slot; an already cancelled booking is returned as it is."""
    booking = await _locked(session, firm_id, booking_id)
    if booking.status is BookingState.CANCELLED:
        return booking
    if booking.status is not BookingState.ACTIVE:
        raise _not_active(booking, "cancelled")
    await _release(session, booking)
    booking = await save_booking(
        session, booking, status=BookingState.CANCELLED.value, updated_at=now
    )
    await record_event(session, booking, "booking.cancelled")
    return booking


async def reschedule(
    *,
    session: AsyncSession,
    firm_id: str,
    booking_id: str,
    gate: Gate,
    slot_start: datetime,
    now: datetime,
) -> Booking:
    """Move an active booking to another slot: take the new one, release the old, in one
    transaction (slot rows in one order: two crossing reschedules cannot deadlock)."""
    booking = await _locked(session, firm_id, booking_id)
    if booking.status is not BookingState.ACTIVE:
        raise _not_active(booking, "rescheduled")
    slot_end = _check(gate, slot_start, now)
    slot_start = slot_start.astimezone(UTC)
    if slot_start == booking.slot_start:
        return booking
    if slot_start < booking.slot_start:
        await _take_or_refuse(session, booking, gate, slot_start)
        await _release(session, booking)
    else:
        await _release(session, booking)
        await _take_or_refuse(session, booking, gate, slot_start)
    previous = booking.slot_start.isoformat()
    booking = await save_booking(
        session, booking, slot_start=slot_start, slot_end=slot_end, updated_at=now
    )
    await record_event(session, booking, "booking.rescheduled", previous_slot_start=previous)
    return booking


# --- the outbox ------------------------------------------------------------------------------


async def unpublished_events(*, session: AsyncSession, limit: int) -> list[BookingEventRow]:
    rows = await session.scalars(
        select(BookingEventRow)
        .where(BookingEventRow.published_at.is_(None))
        .order_by(BookingEventRow.occurred_at, BookingEventRow.event_id)
        .limit(limit)
    )
    return list(rows)


async def mark_events_published(
    *, session: AsyncSession, event_ids: Iterable[str], at: datetime
) -> None:
    ids = sorted(set(event_ids))
    if ids:
        t = table_of(BookingEventRow)
        await session.execute(update(t).where(t.c.event_id.in_(ids)).values(published_at=at))
