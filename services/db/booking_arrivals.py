"""Bookings at the gate: a truck's arrival against its booking (on time, late within the
grace, or lost), bookings used, and no-shows marked and counted per firm. The decider and
the lane-event worker call these, inside their write transactions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.booking import slots_at_arrival
from lanes.bookings import BOOKING_GRACE, BookedSlot, BookingState
from services.db.booking_tables import BookingRow, FirmBookingStatsRow
from services.db.bookings import (
    ACTIVE,
    booking_from_row,
    record_event,
    save_booking,
    table_of,
)
from services.db.driver_pages import end_booking_pages
from services.db.repository import _insert, is_postgres


async def _bump_stats(session: AsyncSession, counts: Mapping[str, int], column: str) -> None:
    t = table_of(FirmBookingStatsRow)
    for firm_id, n in sorted(counts.items()):
        stmt = _insert(session, t).values(
            {"firm_id": firm_id, "no_shows": 0, "lost_late": 0} | {column: n}
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["firm_id"], set_={column: getattr(t.c, column) + n}
            )
        )


async def _expire(
    session: AsyncSession, rows: Iterable[BookingRow], state: BookingState, now: datetime
) -> dict[str, int]:
    counts: dict[str, int] = {}
    ended: list[str] = []
    for row in rows:
        before = booking_from_row(row)
        ended.append(before.booking_id)
        after = before.no_show(now) if state is BookingState.NO_SHOW else before.lost_late(now)
        booking = await save_booking(session, before, after)
        await record_event(session, booking, f"booking.{state.value}")
        counts[booking.firm_id] = counts.get(booking.firm_id, 0) + 1
    # its driver's page stops saying "booked" (drive to the waiting area, check in)
    await end_booking_pages(session=session, booking_ids=ended, status=state.value)
    column = "no_shows" if state is BookingState.NO_SHOW else "lost_late"
    await _bump_stats(session, counts, column)
    return counts


async def expire_bookings(
    *,
    session: AsyncSession,
    now: datetime,
    grace: timedelta = BOOKING_GRACE,
    gate_id: str | None = None,
) -> dict[str, int]:
    """Mark active bookings (of `gate_id`, or of every gate) whose slot ended more than
    `grace` before `now` (the gate's event time, never the wall clock) as no-shows
    (their capacity is not released: the slot is over) and count them per firm (also added
    to `firm_booking_stats.no_shows`). Returns {firm_id: no-shows marked now}. On SQLite,
    call it after `begin_booking_write` (or `repository.begin_write`)."""
    rows = await session.scalars(
        select(BookingRow)
        .where(BookingRow.status == ACTIVE, BookingRow.slot_end < now - grace)
        .where(BookingRow.gate_id == gate_id if gate_id is not None else true())
        .order_by(BookingRow.booking_id)
        .with_for_update(skip_locked=is_postgres(session))
    )
    return await _expire(session, list(rows), BookingState.NO_SHOW, now)


async def booking_for_arrival(
    *,
    session: AsyncSession,
    manifest_ids: Iterable[str],
    at: datetime,
    grace: timedelta = BOOKING_GRACE,
) -> dict[str, BookedSlot]:
    """The active booking of each manifest with one, for a truck arriving at `at`. An
    arrival more than `grace` after its slot's end loses the slot: that booking is marked
    `lost_late` (and counted on its firm) and comes back with that status, so the truck is
    a walk-in and must rebook. Call it in a write transaction (on SQLite, after
    `repository.begin_write`); PostgreSQL locks the bookings it reads."""
    wanted = sorted(set(manifest_ids))
    if not wanted:
        return {}
    rows = list(
        await session.scalars(
            select(BookingRow)
            .where(BookingRow.manifest_id.in_(wanted), BookingRow.status == ACTIVE)
            .order_by(BookingRow.booking_id)
            .with_for_update()
        )
    )
    late = [r for r in rows if booking_from_row(r).lost_at(at, grace)]
    await _expire(session, late, BookingState.LOST_LATE, at)
    return slots_at_arrival((booking_from_row(r) for r in rows), {r.booking_id for r in late})


async def mark_used(*, session: AsyncSession, manifest_ids: Iterable[str], at: datetime) -> int:
    """A truck with an active booking crossed: its booking is used. Returns how many."""
    rows = list(
        await session.scalars(
            select(BookingRow)
            .where(BookingRow.manifest_id.in_(sorted(set(manifest_ids))))
            .where(BookingRow.status == ACTIVE)
            .with_for_update()
        )
    )
    used = [booking_from_row(row) for row in rows]
    for before in used:
        booking = await save_booking(session, before, before.used(at))
        await record_event(session, booking, "booking.used")
    # a page still "booked" (the truck came straight to the gate) says so; a page the
    # call-forward worker wrote (called, at the gate) is its own
    await end_booking_pages(
        session=session, booking_ids=[b.booking_id for b in used], status="used"
    )
    return len(used)


async def firm_no_shows(*, session: AsyncSession, firm_id: str) -> int:
    found = await session.scalar(
        select(func.coalesce(FirmBookingStatsRow.no_shows, 0)).where(
            FirmBookingStatsRow.firm_id == firm_id
        )
    )
    return int(found or 0)
