"""Visit look-ups the decider needs beyond the plate-keyed tracks."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.visits import VisitTrack
from services.db.convert import track_from_row
from services.db.tables import VisitRow


async def recent_visit_tracks(
    *, session: AsyncSession, gate_id: str, since: datetime, until: datetime
) -> list[VisitTrack]:
    """The gate's visits seen within [since, until] (an index range on gate_id, last_seen_at)."""
    rows = await session.scalars(
        select(VisitRow).where(
            VisitRow.gate_id == gate_id,
            VisitRow.last_seen_at >= since,
            VisitRow.first_seen_at <= until,
        )
    )
    return [track_from_row(row) for row in rows]


async def gate_clock(*, session: AsyncSession, gate_id: str) -> datetime | None:
    """The newest `last_seen_at` of the gate's visits: the gate's event-time clock."""
    value = await session.scalar(
        select(func.max(VisitRow.last_seen_at)).where(VisitRow.gate_id == gate_id)
    )
    if isinstance(value, datetime) and value.tzinfo is None:  # SQLite drops the zone
        return value.replace(tzinfo=UTC)
    return value
