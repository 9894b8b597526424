"""Idempotency keys of booking requests (`Idempotency-Key`): claimed in the request's own
transaction, so a concurrent twin waits for the first to commit (PostgreSQL) or to roll
back, then replays its answer. Keys are kept `KEEP` (24 h, as payment APIs do) and purged
by the booking outbox; a retry after that is still safe, because a manifest has at most one
active booking (the retry gets a 409 naming the booking it already has)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.booking_tables import IdempotencyKeyRow
from services.db.bookings import table_of
from services.db.repository import _insert

KEEP = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class EarlierRequest:
    """What an earlier request with the same idempotency key was, and was answered."""

    request_hash: str
    booking_id: str | None
    status_code: int
    response: dict[str, Any] | None


async def claim_idempotency_key(
    *, session: AsyncSession, firm_id: str, key: str, request_hash: str, now: datetime
) -> EarlierRequest | None:
    """None: the key is ours to use now; else the earlier request with this key (a
    concurrent twin waits for the first to commit on PostgreSQL, or to roll back)."""
    table = table_of(IdempotencyKeyRow)
    claimed = await session.scalar(
        _insert(session, table)
        .values(firm_id=firm_id, key=key, request_hash=request_hash, status_code=0, created_at=now)
        .on_conflict_do_nothing(index_elements=["firm_id", "key"])
        .returning(table.c.key)
    )
    if claimed is not None:
        return None
    row = (
        await session.execute(
            select(
                table.c.request_hash, table.c.booking_id, table.c.status_code, table.c.response
            ).where(table.c.firm_id == firm_id, table.c.key == key)
        )
    ).one()
    return EarlierRequest(row.request_hash, row.booking_id, row.status_code, row.response)


async def store_idempotent_response(
    *,
    session: AsyncSession,
    firm_id: str,
    key: str,
    booking_id: str,
    status_code: int,
    response: Mapping[str, Any],
) -> None:
    table = table_of(IdempotencyKeyRow)
    await session.execute(
        update(table)
        .where(table.c.firm_id == firm_id, table.c.key == key)
        .values(booking_id=booking_id, status_code=status_code, response=dict(response))
    )


async def purge_idempotency_keys(*, session: AsyncSession, now: datetime) -> int:
    """Forget the keys claimed more than KEEP ago; how many were removed."""
    table = table_of(IdempotencyKeyRow)
    result = await session.execute(delete(table).where(table.c.created_at < now - KEEP))
    return int(result.rowcount) if isinstance(result, CursorResult) else 0
