"""Queries and writes, one function per need, keyword-only session. Batch-shaped: each
function issues one statement for a whole consumer batch, not one per event."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.model import Gate, LaneDecision
from lanes.visits import VisitTrack
from services.db.convert import (
    decision_values,
    track_from_row,
)
from services.db.tables import (
    DecisionRow,
    GateRow,
    LaneRow,
    PlateReadRow,
    PlateTrackRow,
    VisitRow,
)

TrackKey = tuple[str, str]


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def begin_write(*, session: AsyncSession, gate_ids: Iterable[str]) -> None:
    """Take the write locks of a decision batch before reading any state.

    PostgreSQL: lock the gates' rows (sorted, so two workers never deadlock), which
    serialises decisions per gate across workers. SQLite: BEGIN IMMEDIATE takes the
    database's write lock up front, so the read-then-write below cannot go stale."""
    if is_postgres(session):
        await session.execute(
            select(GateRow.gate_id)
            .where(GateRow.gate_id.in_(sorted(set(gate_ids))))
            .order_by(GateRow.gate_id)
            .with_for_update()
        )
    else:
        await sqlite_write_lock(session)


async def sqlite_write_lock(session: AsyncSession) -> None:
    """SQLite: take the database's write lock now (BEGIN IMMEDIATE), as the first statement
    of the transaction, so a read-check-write cannot go stale and concurrent writers queue
    on the busy timeout; PostgreSQL: nothing (its row locks do it). The one place that
    emits it (the decider's `begin_write`, the bookings', an alert read for update)."""
    if not is_postgres(session):
        await session.execute(text("BEGIN IMMEDIATE"))


async def existing_read_payloads(
    *, session: AsyncSession, event_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The stored wire form of each read of `event_ids` already received."""
    if not event_ids:
        return {}
    rows = await session.execute(
        select(PlateReadRow.event_id, PlateReadRow.payload).where(
            PlateReadRow.event_id.in_(event_ids)
        )
    )
    return {str(event_id): dict(payload) for event_id, payload in rows.all()}


async def load_tracks(
    *, session: AsyncSession, keys: Iterable[TrackKey]
) -> dict[TrackKey, VisitTrack]:
    by_gate: dict[str, set[str]] = {}
    for gate_id, plate in keys:
        by_gate.setdefault(gate_id, set()).add(plate)
    tracks: dict[TrackKey, VisitTrack] = {}
    for gate_id, plates in sorted(by_gate.items()):
        # `gate_id = ? AND plate IN (...)`: a primary-key range scan on both databases
        rows = await session.scalars(
            select(PlateTrackRow).where(
                PlateTrackRow.gate_id == gate_id,
                PlateTrackRow.plate.in_(sorted(plates)),
            )
        )
        tracks.update({(row.gate_id, row.plate): track_from_row(row) for row in rows})
    return tracks


async def insert_reads(*, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        stmt = _insert(session, PlateReadRow).on_conflict_do_nothing(index_elements=["event_id"])
        await session.execute(stmt, list(rows))


async def insert_visits(*, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(_insert(session, VisitRow), list(rows))


async def update_visits(*, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows of visit_id, first_seen_at, last_seen_at, read_count (bulk update by key)."""
    if rows:
        await session.execute(update(VisitRow), list(rows))


async def upsert_tracks(*, session: AsyncSession, tracks: Iterable[VisitTrack]) -> None:
    rows = [
        {
            "gate_id": t.gate_id,
            "plate": t.plate,
            "visit_id": t.visit_id,
            "direction": t.direction.value,
            "first_seen_at": t.first_seen_at,
            "last_seen_at": t.last_seen_at,
            "read_count": t.read_count,
        }
        for t in tracks
    ]
    if not rows:
        return
    stmt = _insert(session, PlateTrackRow)
    stmt = stmt.on_conflict_do_update(
        index_elements=["gate_id", "plate"],
        set_={
            c: getattr(stmt.excluded, c)
            for c in ("visit_id", "direction", "first_seen_at", "last_seen_at", "read_count")
        },
    )
    await session.execute(stmt, rows)


async def insert_decisions(*, session: AsyncSession, decisions: Sequence[LaneDecision]) -> None:
    if decisions:
        stmt = _insert(session, DecisionRow).on_conflict_do_nothing(index_elements=["visit_id"])
        await session.execute(stmt, [decision_values(d) for d in decisions])


async def unmark_published_since(*, session: AsyncSession, since: datetime) -> int:
    """Decisions published at or after `since` (wall clock) become unpublished again."""
    result = await session.execute(
        update(DecisionRow)
        .where(DecisionRow.published_at >= since)
        .values(published_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def unpublished_decisions(*, session: AsyncSession, limit: int = 1000) -> list[DecisionRow]:
    rows = await session.scalars(
        select(DecisionRow)
        .where(DecisionRow.published_at.is_(None))
        .order_by(DecisionRow.decided_at, DecisionRow.decision_id)
        .limit(limit)
    )
    return list(rows)


async def decisions_by_id(*, session: AsyncSession, ids: Sequence[str]) -> list[DecisionRow]:
    if not ids:
        return []
    rows = await session.scalars(select(DecisionRow).where(DecisionRow.decision_id.in_(ids)))
    by_id = {row.decision_id: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]


async def mark_published(*, session: AsyncSession, ids: Sequence[str], at: datetime) -> None:
    if ids:
        await session.execute(
            update(DecisionRow)
            .where(DecisionRow.decision_id.in_(ids), DecisionRow.published_at.is_(None))
            .values(published_at=at)
        )


async def ensure_gate(*, session: AsyncSession, gate: Gate) -> None:
    """Make the stored gate and its lanes what the configuration says: the gate's name, each
    lane's direction, kind and mean service time (`service_seconds`) are written over; a lane
    keeps its live state (open, free at); a lane the configuration no longer has is removed."""
    gate_stmt = _insert(session, GateRow).values(gate_id=gate.gate_id, name=gate.name)
    await session.execute(
        gate_stmt.on_conflict_do_update(
            index_elements=["gate_id"], set_={"name": gate_stmt.excluded.name}
        )
    )
    lanes = [
        {
            "lane_id": lane.lane_id,
            "gate_id": gate.gate_id,
            "direction": lane.direction.value,
            "kind": lane.kind.value,
            "service_seconds": round(lane.service_time.total_seconds()),
            "is_open": True,
            "free_at": None,
        }
        for lane in gate.lanes
    ]
    if lanes:
        stmt = _insert(session, LaneRow)
        configured = ("gate_id", "direction", "kind", "service_seconds")
        stmt = stmt.on_conflict_do_update(
            index_elements=["lane_id"], set_={c: stmt.excluded[c] for c in configured}
        )
        await session.execute(stmt, lanes)
    await session.execute(
        delete(LaneRow).where(
            LaneRow.gate_id == gate.gate_id,
            LaneRow.lane_id.not_in([lane.lane_id for lane in gate.lanes]),
        )
    )
