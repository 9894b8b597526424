"""Slot bookings in the database, keyword-only session, in the caller's transaction.

Capacity is never checked then written: a slot is taken by one conditional UPDATE of its
`slot_counts` row (`booked < capacity`, and for non-perishable cargo `booked -
booked_perishable < capacity - reserved`), so concurrent requests cannot overbook on either
database; one active booking a manifest is a partial unique index. Every change writes a
booking event to the outbox (`booking_events`) in the same transaction. The rules (which
slot, capacity, states) are the domain's (`lanes.booking.Booking`); the use cases that run
them are services/service_layer/bookings.py. This module only stores what they decide."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.booking import Booking, ManifestTerms
from lanes.bookings import BookingState, SlotCapacity
from lanes.values import Direction
from services.db.booking_tables import (
    BookingEventRow,
    BookingRow,
    SlotCountRow,
)
from services.db.repository import _insert, is_postgres, sqlite_write_lock
from services.db.tables import ManifestRow

ACTIVE = BookingState.ACTIVE.value


def table_of(row: type[Any]) -> Table:
    return cast(Table, row.__table__)


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
    await sqlite_write_lock(session)


# --- slots -----------------------------------------------------------------------------------


async def take_place(
    *, session: AsyncSession, booking: Booking, slot_start: datetime, cap: SlotCapacity
) -> bool:
    """One place in the slot, or False when it is full: a single upsert whose update runs
    only while there is room (`booked < total`, and for non-perishable cargo `booked -
    booked_perishable < general`: `SlotCapacity.has_room`, the domain's rule, in SQL), atomic
    on both databases (the row is locked on PostgreSQL, the database on SQLite)."""
    total, general = cap.total, cap.general
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


async def release_place(*, session: AsyncSession, booking: Booking) -> None:
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


async def record_event(
    session: AsyncSession,
    booking: Booking,
    type_: str,
    *,
    occurred_at: datetime | None = None,
    **extra: Any,
) -> None:
    values: dict[str, Any] = {
        "event_id": uuid.uuid4().hex,
        "booking_id": booking.booking_id,
        "type": type_,
        "payload": event_payload(booking) | extra,
        "occurred_at": booking.updated_at if occurred_at is None else occurred_at,
        "published_at": None,
    }
    if not is_postgres(session):  # PostgreSQL numbers them from its sequence
        values["seq"] = await visible_booking_seq(session) + 1
    await session.execute(insert(table_of(BookingEventRow)).values(**values))


async def visible_booking_seq(session: AsyncSession) -> int:
    """The highest booking event `seq` this transaction sees (0: none yet)."""
    found = await session.scalar(select(func.max(BookingEventRow.seq)))
    return int(found or 0)


async def manifest_cargo(
    *, session: AsyncSession, firm_id: str, manifest_id: str
) -> ManifestTerms | None:
    """The firm's manifest's direction, whether it is perishable and its crossing window;
    None for a missing one and for another firm's alike. PostgreSQL: the row is read FOR
    SHARE, so a booking waits for an amendment in progress (which holds it FOR UPDATE and
    refuses to change what a booking counts once one is active); read unlocked, a booking
    counted the old cargo while the amendment, seeing no booking yet, was taken. SQLite:
    the write lock is taken up front, the two cannot interleave."""
    m = table_of(ManifestRow)
    row = (
        await session.execute(
            select(m.c.direction, m.c.perishable, m.c.window_start, m.c.window_end)
            .where(m.c.manifest_id == manifest_id, m.c.firm_id == firm_id)
            .with_for_update(read=True)
        )
    ).first()
    if row is None:
        return None
    return ManifestTerms(
        Direction(row.direction), bool(row.perishable), row.window_start, row.window_end
    )


async def insert_booking(*, session: AsyncSession, booking: Booking) -> bool:
    """Store a new booking; False when its manifest already has an active one."""
    values = event_payload(booking) | {
        "slot_start": booking.slot_start,
        "slot_end": booking.slot_end,
        "created_at": booking.created_at,
        "updated_at": booking.updated_at,
    }
    table = table_of(BookingRow)
    inserted = await session.scalar(
        _insert(session, table).values(values).on_conflict_do_nothing().returning(table.c.version)
    )
    return inserted is not None


async def active_booking_id(*, session: AsyncSession, manifest_id: str) -> str | None:
    found: str | None = await session.scalar(
        select(BookingRow.booking_id).where(
            BookingRow.manifest_id == manifest_id, BookingRow.status == ACTIVE
        )
    )
    return found


async def get_booking(
    *, session: AsyncSession, firm_id: str, booking_id: str, for_update: bool = False
) -> Booking | None:
    """A firm's booking (locked for this transaction when `for_update`); None for a missing
    id and for another firm's alike."""
    query = select(BookingRow).where(
        BookingRow.booking_id == booking_id, BookingRow.firm_id == firm_id
    )
    if for_update:
        query = query.with_for_update()
    row = await session.scalar(query.execution_options(populate_existing=True))
    return None if row is None else booking_from_row(row)


async def last_event_at(*, session: AsyncSession, booking_id: str, type_: str) -> datetime | None:
    """When the booking's latest event of `type_` happened; None: it has none."""
    found: datetime | None = await session.scalar(
        select(func.max(BookingEventRow.occurred_at)).where(
            BookingEventRow.booking_id == booking_id, BookingEventRow.type == type_
        )
    )
    return found


async def booking_firm(*, session: AsyncSession, booking_id: str) -> str | None:
    """The firm that holds the booking; None for a missing id (the driver's page knows the
    booking only, its link being the driver's credential)."""
    firm: str | None = await session.scalar(
        select(BookingRow.firm_id).where(BookingRow.booking_id == booking_id)
    )
    return firm


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


class ConcurrentChange(RuntimeError):
    """A booking changed between its read and its write (only possible without the write
    lock that the API and begin_write take)."""


async def save_booking(session: AsyncSession, before: Booking, after: Booking) -> Booking:
    """Store `after` (a change the domain made of `before`) if the stored booking is still
    at `before`'s version (optimistic check); returns `after`."""
    t = table_of(BookingRow)
    result = await session.execute(
        update(t)
        .where(t.c.booking_id == before.booking_id, t.c.version == before.version)
        .values(
            status=after.status.value,
            slot_start=after.slot_start,
            slot_end=after.slot_end,
            updated_at=after.updated_at,
            version=t.c.version + 1,
        )
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        raise ConcurrentChange(f"booking {before.booking_id} changed concurrently")
    return after


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
