"""The `alerts` table: new alerts in (one row per alert id, i.e. per rule and subject), the
outbox to `borderflow.alerts`, and the controllers' status changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.alerts import Alert, Severity
from services.db.alert_tables import AlertRow
from services.db.repository import sqlite_write_lock
from streams.alerts import AlertChange, AlertV1, HoldEnd

OPEN = "open"
CLOSED = frozenset({"dismissed"})
HOLD_ENDS = frozenset({"released", "turned_away"})  # the changes a hold's end announces


async def insert_new(
    *, session: AsyncSession, alerts: Sequence[Alert], now: datetime
) -> list[Alert]:
    """Store the alerts not stored yet (by id: one per rule and subject, open or closed);
    returns those, in the given order."""
    if not alerts:
        return []
    ids = [a.alert_id for a in alerts]
    known = set(await session.scalars(select(AlertRow.alert_id).where(AlertRow.alert_id.in_(ids))))
    fresh = [a for a in alerts if a.alert_id not in known]
    session.add_all(
        AlertRow(
            alert_id=a.alert_id,
            rule=a.rule,
            severity=a.severity.value,
            subject=a.subject,
            gate_id=a.gate_id,
            raised_at=a.raised_at,
            explanation=a.explanation,
            evidence=list(a.evidence),
            hold=a.hold,
            held_visit_id=None,
            status=OPEN,
            created_at=now,
        )
        for a in fresh
    )
    await session.flush()
    return fresh


async def set_held(*, session: AsyncSession, alert_id: str, visit_id: str) -> None:
    """The alert holds `visit_id` now (a release of a truck it held before is over)."""
    await session.execute(
        update(AlertRow)
        .where(AlertRow.alert_id == alert_id)
        .values(
            held_visit_id=visit_id,
            released_by=None,
            released_at=None,
            release_reason=None,
            released_as=None,
        )
    )


async def holding(*, session: AsyncSession, visit_ids: Sequence[str]) -> dict[str, list[AlertRow]]:
    """The alerts (not dismissed, not released) holding each of `visit_ids`' trucks, oldest
    first: what `release_holds` would release."""
    if not visit_ids:
        return {}
    rows = await session.scalars(
        select(AlertRow)
        .where(AlertRow.held_visit_id.in_(sorted(set(visit_ids))))
        .where(AlertRow.released_at.is_(None), AlertRow.status.not_in(sorted(CLOSED)))
        .order_by(AlertRow.raised_at, AlertRow.alert_id)
    )
    found: dict[str, list[AlertRow]] = {}
    for row in rows:
        found.setdefault(str(row.held_visit_id), []).append(row)
    return found


async def release_holds(
    *,
    session: AsyncSession,
    visit_id: str,
    by: str,
    reason: str,
    at: datetime,
    ended: HoldEnd = "released",
) -> list[AlertRow]:
    """The alerts (not dismissed) holding the truck of `visit_id`, marked released by `by`
    at `at` (the gate's event time), oldest first; those released already are left."""
    rows = list(
        await session.scalars(
            select(AlertRow)
            .where(AlertRow.held_visit_id == visit_id, AlertRow.released_at.is_(None))
            .where(AlertRow.status.not_in(sorted(CLOSED)))
            .order_by(AlertRow.raised_at, AlertRow.alert_id)
            .with_for_update()
        )
    )
    for row in rows:
        row.released_by, row.released_at, row.release_reason = by, at, reason
        row.released_as = ended
    await session.flush()
    return rows


async def open_holds(
    *, session: AsyncSession, gate_id: str, subjects: Sequence[str]
) -> list[AlertRow]:
    """The open holding alerts (not dismissed) about any of `subjects`, oldest first: one
    statement for a batch's trucks."""
    if not subjects:
        return []
    rows = await session.scalars(
        select(AlertRow)
        .where(AlertRow.gate_id == gate_id, AlertRow.subject.in_(sorted(set(subjects))))
        .where(AlertRow.hold.is_(True), AlertRow.status.not_in(sorted(CLOSED)))
        .order_by(AlertRow.raised_at, AlertRow.alert_id)
    )
    return list(rows)


def to_alert(row: AlertRow) -> Alert:
    return Alert(
        alert_id=row.alert_id,
        rule=row.rule,
        severity=Severity(row.severity),
        subject=row.subject,
        gate_id=row.gate_id,
        raised_at=row.raised_at,
        explanation=row.explanation,
        evidence=tuple(row.evidence),
        hold=row.hold,
    )


async def get_alert(
    *, session: AsyncSession, alert_id: str, for_update: bool = False
) -> AlertRow | None:
    """The alert; `for_update`: locked until the transaction ends (call it first in the
    transaction: on SQLite, which has no FOR UPDATE, it takes the database's write lock
    before reading, BEGIN IMMEDIATE; until 2026-12-06 it read unlocked there, and two
    controllers acknowledging one alert at once both did it, with two audit entries)."""
    query = select(AlertRow).where(AlertRow.alert_id == alert_id)
    if for_update:
        await sqlite_write_lock(session)
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def list_alerts(
    *, session: AsyncSession, gate_id: str, include_closed: bool = False, limit: int = 200
) -> list[AlertRow]:
    query = select(AlertRow).where(AlertRow.gate_id == gate_id)
    if not include_closed:
        query = query.where(AlertRow.status.not_in(sorted(CLOSED)))
    rows = await session.scalars(
        query.order_by(AlertRow.raised_at.desc(), AlertRow.alert_id).limit(limit)
    )
    return list(rows)


async def unpublished(*, session: AsyncSession, limit: int = 1000) -> list[AlertRow]:
    rows = await session.scalars(
        select(AlertRow)
        .where(AlertRow.published_at.is_(None))
        .order_by(AlertRow.raised_at, AlertRow.alert_id)
        .limit(limit)
    )
    return list(rows)


async def mark_published(*, session: AsyncSession, ids: Sequence[str], at: datetime) -> None:
    if ids:
        await session.execute(
            update(AlertRow).where(AlertRow.alert_id.in_(list(ids))).values(published_at=at)
        )


def to_wire(
    row: AlertRow, change: AlertChange = "raised", *, audit_seq: int | None = None
) -> AlertV1:
    return AlertV1(**wire_values(row, change), audit_seq=audit_seq)


def wire_values(row: AlertRow, change: AlertChange = "raised") -> dict[str, Any]:
    """The alert event's fields (`AlertV1`) but `audit_seq`."""
    return {
        "alert_id": row.alert_id,
        "change": change,
        "rule": row.rule,
        "severity": row.severity,
        "subject": row.subject,
        "gate_id": row.gate_id,
        "raised_at": row.raised_at,
        "explanation": row.explanation,
        "evidence": list(row.evidence),
        "hold": row.hold,
        "held_visit_id": row.held_visit_id,
        **released(row),
        "status": row.status,
        "changed_by": _changed_by(row, change),
        "reason": _changed_why(row, change),
    }


def released(row: AlertRow) -> dict[str, Any]:
    """Who released the truck the alert held (or turned it away: `released_as`), when
    (event time) and why; None each while it is held (or never was)."""
    return {
        "released_by": row.released_by,
        "released_at": None if row.released_at is None else _aware(row.released_at),
        "release_reason": row.release_reason,
        "released_as": _released_as(row),
    }


def hold_end(ended: str) -> HoldEnd:
    """`ended` as a hold's end ("released" or "turned_away"); anything else is a bug."""
    if ended == "turned_away":
        return "turned_away"
    if ended != "released":
        raise ValueError(f"a hold ends released or turned_away, not {ended!r}")
    return "released"


def _released_as(row: AlertRow) -> HoldEnd | None:
    """A release before the column (0026) was always a release."""
    if row.released_at is None:
        return None
    return hold_end(row.released_as or "released")


def _changed_by(row: AlertRow, change: AlertChange) -> str | None:
    if change == "raised":
        return None
    return row.released_by if change in HOLD_ENDS else row.status_by


def _changed_why(row: AlertRow, change: AlertChange) -> str | None:
    if change == "raised":
        return None
    return row.release_reason if change in HOLD_ENDS else row.status_reason


def row_json(row: AlertRow) -> dict[str, Any]:
    """The alert as the control room's API shows it."""
    return {
        "alert_id": row.alert_id,
        "rule": row.rule,
        "severity": row.severity,
        "subject": row.subject,
        "gate_id": row.gate_id,
        "raised_at": _aware(row.raised_at).isoformat(),
        "explanation": row.explanation,
        "evidence": list(row.evidence),
        "hold": row.hold,
        "held_visit_id": row.held_visit_id,
        "released_by": row.released_by,
        "released_at": None if row.released_at is None else _aware(row.released_at).isoformat(),
        "release_reason": row.release_reason,
        "released_as": _released_as(row),
        "status": row.status,
        "status_by": row.status_by,
        "status_reason": row.status_reason,
    }


async def panel(
    *, session: AsyncSession, gate_id: str, as_of: datetime, limit: int = 50
) -> list[dict[str, Any]]:
    """The control room's alerts panel: the gate's alerts not dismissed, open ones first, most
    severe then newest first, each with its age in gate time (`as_of`, event time) in
    seconds. The `limit` first in that order: until 2026-12-05 the `limit` newest were
    taken, then sorted, and an older open high alert (a cloned plate holding its truck) left
    the panel under 50 newer ones, acknowledged or medium."""
    rank = case({"high": 0, "medium": 1, "low": 2}, value=AlertRow.severity, else_=3)
    rows = await session.scalars(
        select(AlertRow)
        .where(AlertRow.gate_id == gate_id, AlertRow.status.not_in(sorted(CLOSED)))
        .order_by(
            case((AlertRow.status == OPEN, 0), else_=1),
            rank,
            AlertRow.raised_at.desc(),
            AlertRow.alert_id,
        )
        .limit(limit)
    )
    return [
        row_json(r) | {"age_s": max(0, round((as_of - _aware(r.raised_at)).total_seconds()))}
        for r in rows
    ]


async def panel_counts(*, session: AsyncSession, gate_id: str) -> dict[str, int]:
    """How many alerts the panel stands for, listed or not: `open`, and `total` (not
    dismissed)."""
    rows = await session.execute(
        select(AlertRow.status, func.count())
        .where(AlertRow.gate_id == gate_id, AlertRow.status.not_in(sorted(CLOSED)))
        .group_by(AlertRow.status)
    )
    by_status = {str(status): int(n) for status, n in rows.all()}
    return {"open": by_status.get(OPEN, 0), "total": sum(by_status.values())}


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
