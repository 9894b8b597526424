"""The orchestrator's state: gate boards, applied lane events, revised decisions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.board import Board
from lanes.board_json import board_from_json
from lanes.model import Gate, LaneDecision
from services.db.board_tables import HELD, REFUSED, GateBoardRow, LaneEventRow
from services.db.convert import decision_values
from services.db.repository import _insert
from services.db.tables import DecisionRow, LaneRow


async def load_board(*, session: AsyncSession, gate_id: str) -> dict[str, Any] | None:
    """The gate's board as stored (`board_to_json`), or None before the first write."""
    row = await session.get(GateBoardRow, gate_id, populate_existing=True)
    return None if row is None else dict(row.board)


async def load_gate_board(session: AsyncSession, gate: Gate) -> Board:
    """The gate's board as stored, or an empty one before the first write."""
    stored = await load_board(session=session, gate_id=gate.gate_id)
    return Board.for_gate(gate) if stored is None else board_from_json(stored)


async def save_board(
    *, session: AsyncSession, gate_id: str, board: dict[str, Any], now: datetime
) -> None:
    stmt = _insert(session, GateBoardRow).values(
        gate_id=gate_id, board=board, updated_at=now, revision=1
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["gate_id"],
        set_={
            "board": stmt.excluded.board,
            "updated_at": stmt.excluded.updated_at,
            "revision": GateBoardRow.revision + 1,
        },
    )
    await session.execute(stmt)


async def new_lane_events(*, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Record lane events; returns the event_ids not seen before (the ones to apply)."""
    if not rows:
        return set()
    seen = await stored_lane_events(session=session, event_ids=[r["event_id"] for r in rows])
    fresh = [r for r in rows if r["event_id"] not in seen]
    if fresh:
        stmt = _insert(session, LaneEventRow).on_conflict_do_nothing(index_elements=["event_id"])
        await session.execute(stmt, fresh)
    return {r["event_id"] for r in fresh}


async def stored_lane_events(*, session: AsyncSession, event_ids: Sequence[str]) -> set[str]:
    """The event_ids of these lane events that a committed batch recorded (applied: the
    control room's hub rebuilds a board once its lane event is, services/control/hub.py)."""
    if not event_ids:
        return set()
    return set(
        await session.scalars(
            select(LaneEventRow.event_id).where(LaneEventRow.event_id.in_(sorted(set(event_ids))))
        )
    )


async def forget_lane_events(*, session: AsyncSession, event_ids: Sequence[str]) -> None:
    """Unrecord these lane events (not applied): a later send of one is new again."""
    if event_ids:
        await session.execute(
            delete(LaneEventRow).where(LaneEventRow.event_id.in_(sorted(set(event_ids))))
        )


async def hold_lane_events(
    *, session: AsyncSession, event_ids: Sequence[str], held: bool = True
) -> None:
    """Keep these recorded lane events to be applied later (dated ahead of the reads), or
    with `held` False, no longer (applied now)."""
    if event_ids:
        await session.execute(
            update(LaneEventRow)
            .where(LaneEventRow.event_id.in_(sorted(set(event_ids))))
            .values(held=held)
        )


async def held_lane_events(
    *, session: AsyncSession, gate_id: str, until: datetime
) -> list[dict[str, Any]]:
    """The gate's held lane events dated up to `until`, in (at, event_id) order."""
    rows = await session.scalars(
        select(LaneEventRow)
        .where(LaneEventRow.gate_id == gate_id, HELD, LaneEventRow.at <= until)
        .order_by(LaneEventRow.at, LaneEventRow.event_id)
    )
    return [_event(r) for r in rows]


def _event(row: LaneEventRow) -> dict[str, Any]:
    """A stored lane event as the stores hand it on (the event as it came in `payload`)."""
    return {
        "event_id": row.event_id,
        "gate_id": row.gate_id,
        "kind": row.kind,
        "at": row.at,
        "payload": row.payload,
    }


async def refuse_lane_events(*, session: AsyncSession, refusals: Sequence[tuple[str, str]]) -> None:
    """Held lane events the board refused when their time came, with the reason: held no
    longer, kept until dead-lettered (`refused_lane_events`, then `forget_lane_events`)."""
    for event_id, reason in refusals:
        await session.execute(
            update(LaneEventRow)
            .where(LaneEventRow.event_id == event_id)
            .values(held=False, refused=reason)
        )


async def refused_lane_events(*, session: AsyncSession, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` refused lane events waiting to be dead-lettered, oldest first, each with
    its payload (the event as it came) and `refused` (the board's reason)."""
    rows = await session.scalars(
        select(LaneEventRow)
        .where(REFUSED)
        .order_by(LaneEventRow.at, LaneEventRow.event_id)
        .limit(limit)
    )
    return [_event(r) | {"refused": r.refused} for r in rows]


async def set_lane_open(*, session: AsyncSession, lane_id: str, is_open: bool) -> None:
    await session.execute(update(LaneRow).where(LaneRow.lane_id == lane_id).values(is_open=is_open))


async def revise_decisions(*, session: AsyncSession, decisions: Sequence[LaneDecision]) -> None:
    """Replace each visit's decision by its revision (same visit_id, a new decision_id and
    revision, back in the outbox)."""
    for decision in decisions:
        values = decision_values(decision)
        values.pop("visit_id")
        await session.execute(
            update(DecisionRow).where(DecisionRow.visit_id == decision.visit_id).values(**values)
        )


async def decisions_for_visits(
    *, session: AsyncSession, visit_ids: Sequence[str]
) -> dict[str, DecisionRow]:
    if not visit_ids:
        return {}
    rows = await session.scalars(select(DecisionRow).where(DecisionRow.visit_id.in_(visit_ids)))
    return {row.visit_id: row for row in rows}


async def latest_decisions(
    *, session: AsyncSession, gate_id: str, manifest_ids: Sequence[str]
) -> dict[str, DecisionRow]:
    """The newest decision at the gate on each manifest (`latest_decision`'s order)."""
    if not manifest_ids:
        return {}
    rows = await session.scalars(
        select(DecisionRow)
        .where(DecisionRow.gate_id == gate_id, DecisionRow.manifest_id.in_(sorted(manifest_ids)))
        .order_by(DecisionRow.decided_at.desc(), DecisionRow.visit_id)
    )
    found: dict[str, DecisionRow] = {}
    for row in rows:
        if row.manifest_id is not None:
            found.setdefault(row.manifest_id, row)
    return found


async def latest_decision(
    *, session: AsyncSession, gate_id: str, subject: str
) -> DecisionRow | None:
    """The newest decision at the gate about `plate:...` or `manifest:...`."""
    kind, _, value = subject.partition(":")
    column = {"plate": DecisionRow.plate, "manifest": DecisionRow.manifest_id}.get(kind)
    if column is None:
        return None
    rows: Sequence[DecisionRow] = list(
        await session.scalars(
            select(DecisionRow)
            .where(DecisionRow.gate_id == gate_id, column == value)
            .order_by(DecisionRow.decided_at.desc(), DecisionRow.visit_id)
            .limit(1)
        )
    )
    return rows[0] if rows else None
