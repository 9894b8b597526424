"""A booking's driver's page, where the booking ends (services/db/booking_arrivals.py: the
decider's transaction) and where a firm cancels it (services/adapters/sql_bookings.py):
a page that still says "booked" says how the booking ended instead. The pages themselves
(tokens, the worker's writes) are services/drivers/store.py."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.driver_tables import DriverPageRow

BOOKING_PAGE = "booking:"  # a booking's page key is this and its booking id


def booking_page_key(booking_id: str) -> str:
    return f"{BOOKING_PAGE}{booking_id}"


async def end_booking_pages(
    *,
    session: AsyncSession,
    booking_ids: Iterable[str],
    status: str,
    written_at: datetime | None = None,
) -> int:
    """The pages of these bookings, each while it still says "booked", say `status` (how
    the booking ended: cancelled, no_show, lost_late, used) and nothing else; a page the
    call-forward worker has written (its truck queued, called, at the gate) is left to it.
    Their version goes up (an open page's stream shows it); `written_at` (the wall clock,
    the pages' retention) is kept when None: the decider has only event time. Returns the
    pages changed; the caller commits."""
    keys = sorted({booking_page_key(b) for b in booking_ids})
    if not keys:
        return 0
    rows = await session.execute(
        select(DriverPageRow.token, DriverPageRow.state, DriverPageRow.version).where(
            DriverPageRow.page_key.in_(keys)
        )
    )
    booked = sorted(
        (token, version) for token, state, version in rows if state.get("status") == "booked"
    )
    if not booked:
        return 0
    written = {} if written_at is None else {"updated_at": written_at}
    # each page only at the version read: one the call-forward worker wrote meanwhile (its
    # truck checked in or called) is its own, not overwritten
    changed = await session.execute(
        update(DriverPageRow)
        .where(
            or_(*(and_(DriverPageRow.token == t, DriverPageRow.version == v) for t, v in booked))
        )
        .values(state={"status": status}, version=DriverPageRow.version + 1, **written)
    )
    return int(changed.rowcount) if isinstance(changed, CursorResult) else 0
