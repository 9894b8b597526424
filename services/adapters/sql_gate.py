"""The gate's state on the database (`GateStore`, and the control room's `ControlStore`,
services/ports/__init__.py): each method one of the repository functions, in the caller's
session and transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.actions import PendingLaneChange
from lanes.alert_rules import AlertRules
from lanes.alerts import Alert, Observations
from lanes.board import Board
from lanes.board_json import board_to_json
from lanes.bookings import BookedSlot
from lanes.model import Gate, LaneDecision, Manifest
from lanes.policy.callforward import CalledPlace
from lanes.visits import VisitTrack
from services.alerts import store as alerts
from services.alerts.kept import KeptBookings
from services.alerts.observations import observations
from services.archive.store import record_batch
from services.db import boards, booking_arrivals, called, manifests, visits
from services.db import repository as repo
from services.db.archive_tables import ArchiveBatchRow
from services.db.audit import append_entry
from services.db.board_tables import LaneEventRow
from services.db.called import calls_json
from services.db.control_tables import AuditRow
from services.db.convert import (
    decision_from_row,
    decision_row_to_wire,
    manifest_from_row,
    track_from_row,
)
from services.db.engine import transactions
from services.db.tables import ManifestRow, VisitRow
from services.ports import (
    AlertState,
    AlertViews,
    AuditEntry,
    ControlStores,
    GateStores,
    TrackKey,
)


class SqlGateStore:
    """`kept`: the worker's booking look-back (`services.alerts.kept`), None to read it in
    full on every batch."""

    def __init__(self, session: AsyncSession, kept: KeptBookings | None = None) -> None:
        self.session = session
        self.kept = kept
        self._added: list[Mapping[str, Any]] = []  # the reads this transaction inserted
        self._batch: ArchiveBatchRow | None = None  # the batch this transaction recorded

    async def lock_gates(self, gate_ids: Iterable[str]) -> None:
        await repo.begin_write(session=self.session, gate_ids=gate_ids)

    async def record_batch(
        self,
        worker: str,
        event_ids: Sequence[str],
        times: Sequence[datetime],
        *,
        watermark: datetime | None = None,
    ) -> None:
        self._batch = await record_batch(
            session=self.session,
            worker=worker,
            event_ids=event_ids,
            times=times,
            watermark=watermark,
        )

    async def called_places(
        self, gate_id: str, *, since: datetime, until: datetime
    ) -> list[CalledPlace]:
        found = await called.called_places(
            session=self.session, gate_id=gate_id, since=since, until=until
        )
        if found and self._batch is not None:
            self._batch.calls = {**(self._batch.calls or {}), **calls_json({gate_id: found})}
        return found

    async def stored_reads(self, event_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return await repo.existing_read_payloads(session=self.session, event_ids=event_ids)

    async def add_reads(self, rows: Sequence[Mapping[str, Any]]) -> None:
        await repo.insert_reads(session=self.session, rows=rows)
        self._added += rows

    async def manifests_for_keys(
        self, keys: Iterable[str], *, ended_after: datetime
    ) -> list[Manifest]:
        return await manifests.manifests_for_keys(
            session=self.session, keys=keys, ended_after=ended_after
        )

    async def recent_visits(
        self, gate_id: str, *, since: datetime, until: datetime
    ) -> list[VisitTrack]:
        return await visits.recent_visit_tracks(
            session=self.session, gate_id=gate_id, since=since, until=until
        )

    async def tracks(self, keys: Iterable[TrackKey]) -> dict[TrackKey, VisitTrack]:
        return await repo.load_tracks(session=self.session, keys=keys)

    async def add_visits(self, rows: Sequence[Mapping[str, Any]]) -> None:
        await repo.insert_visits(session=self.session, rows=rows)

    async def update_visits(self, rows: Sequence[Mapping[str, Any]]) -> None:
        await repo.update_visits(session=self.session, rows=rows)

    async def save_tracks(self, tracks: Iterable[VisitTrack]) -> None:
        await repo.upsert_tracks(session=self.session, tracks=tracks)

    async def gate_clock(self, gate_id: str) -> datetime | None:
        return await visits.gate_clock(session=self.session, gate_id=gate_id)

    async def board(self, gate: Gate) -> Board:
        return await boards.load_gate_board(self.session, gate)

    async def save_board(self, gate_id: str, board: Board, *, now: datetime) -> None:
        await boards.save_board(
            session=self.session, gate_id=gate_id, board=board_to_json(board), now=now
        )

    async def new_lane_events(self, rows: Sequence[Mapping[str, Any]]) -> set[str]:
        return await boards.new_lane_events(session=self.session, rows=[dict(r) for r in rows])

    async def forget_lane_events(self, event_ids: Sequence[str]) -> None:
        await boards.forget_lane_events(session=self.session, event_ids=event_ids)

    async def hold_lane_events(self, event_ids: Sequence[str]) -> None:
        await boards.hold_lane_events(session=self.session, event_ids=event_ids)

    async def held_lane_events(self, gate_id: str, *, until: datetime) -> list[dict[str, Any]]:
        return await boards.held_lane_events(session=self.session, gate_id=gate_id, until=until)

    async def refuse_lane_events(self, refusals: Sequence[tuple[str, str]]) -> None:
        await boards.refuse_lane_events(session=self.session, refusals=refusals)

    async def refused_lane_events(self, *, limit: int) -> list[dict[str, Any]]:
        return await boards.refused_lane_events(session=self.session, limit=limit)

    async def release_lane_events(self, event_ids: Sequence[str]) -> None:
        await boards.hold_lane_events(session=self.session, event_ids=event_ids, held=False)

    async def set_lane_open(self, lane_id: str, *, is_open: bool) -> None:
        await boards.set_lane_open(session=self.session, lane_id=lane_id, is_open=is_open)

    async def booking_for_arrival(
        self, manifest_ids: Iterable[str], *, at: datetime, grace: timedelta
    ) -> dict[str, BookedSlot]:
        return await booking_arrivals.booking_for_arrival(
            session=self.session, manifest_ids=manifest_ids, at=at, grace=grace
        )

    async def mark_used(self, manifest_ids: Iterable[str], *, at: datetime) -> int:
        return await booking_arrivals.mark_used(
            session=self.session, manifest_ids=manifest_ids, at=at
        )

    async def expire_bookings(
        self, *, gate_id: str, now: datetime, grace: timedelta
    ) -> dict[str, int]:
        return await booking_arrivals.expire_bookings(
            session=self.session, now=now, grace=grace, gate_id=gate_id
        )

    async def add_decisions(self, decisions: Sequence[LaneDecision]) -> None:
        await repo.insert_decisions(session=self.session, decisions=decisions)

    async def revise_decisions(self, decisions: Sequence[LaneDecision]) -> None:
        await boards.revise_decisions(session=self.session, decisions=decisions)

    async def decisions_for_visits(self, visit_ids: Sequence[str]) -> dict[str, LaneDecision]:
        rows = await boards.decisions_for_visits(session=self.session, visit_ids=visit_ids)
        return {visit_id: decision_from_row(row) for visit_id, row in rows.items()}

    async def latest_decision(self, gate_id: str, subject: str) -> LaneDecision | None:
        row = await boards.latest_decision(session=self.session, gate_id=gate_id, subject=subject)
        return None if row is None else decision_from_row(row)

    async def latest_decisions(
        self, gate_id: str, manifest_ids: Sequence[str]
    ) -> dict[str, LaneDecision]:
        rows = await boards.latest_decisions(
            session=self.session, gate_id=gate_id, manifest_ids=manifest_ids
        )
        return {manifest_id: decision_from_row(row) for manifest_id, row in rows.items()}

    async def unpublished_decisions(self, limit: int) -> list[dict[str, Any]]:
        rows = await repo.unpublished_decisions(session=self.session, limit=limit)
        return [decision_row_to_wire(row) for row in rows]

    async def mark_published(self, decision_ids: Sequence[str], *, at: datetime) -> None:
        await repo.mark_published(session=self.session, ids=decision_ids, at=at)

    async def unmark_published_since(self, since: datetime) -> int:
        return await repo.unmark_published_since(session=self.session, since=since)

    async def observations(self, gate: Gate, rules: AlertRules, *, now: datetime) -> Observations:
        if self.kept is None:
            return await observations(self.session, gate, rules, now=now)
        return await self.kept.observations(self.session, gate, rules, now=now, added=self._added)

    async def add_alerts(self, alerts_: Sequence[Alert], *, now: datetime) -> list[Alert]:
        return await alerts.insert_new(session=self.session, alerts=alerts_, now=now)

    async def open_holds(self, gate_id: str, subjects: Sequence[str]) -> list[Alert]:
        rows = await alerts.open_holds(session=self.session, gate_id=gate_id, subjects=subjects)
        return [alerts.to_alert(row) for row in rows]

    async def set_held(self, alert_id: str, visit_id: str) -> None:
        await alerts.set_held(session=self.session, alert_id=alert_id, visit_id=visit_id)

    async def unpublished_alerts(self, limit: int) -> list[dict[str, Any]]:
        rows = await alerts.unpublished(session=self.session, limit=limit)
        return [alerts.wire_values(row) for row in rows]

    async def mark_alerts_published(self, alert_ids: Sequence[str], *, at: datetime) -> None:
        await alerts.mark_published(session=self.session, ids=alert_ids, at=at)


class SqlControlStore(SqlGateStore):
    async def visit(self, visit_id: str) -> VisitTrack | None:
        row = await self.session.get(VisitRow, visit_id)
        return None if row is None else track_from_row(row)

    async def manifest(self, manifest_id: str) -> Manifest | None:
        row = await self.session.get(ManifestRow, manifest_id)
        return None if row is None else manifest_from_row(row)

    async def audit(self, entry: AuditEntry) -> int:
        row = await append_entry(
            session=self.session,
            actor=entry.actor,
            action=entry.action,
            gate_id=entry.gate_id,
            target=entry.target,
            reason=entry.reason,
            details=entry.details,
            at=entry.at,
        )
        return row.seq

    async def pending_lane_change(
        self,
        gate_id: str,
        lane_id: str,
        *,
        since: datetime,
        actions: tuple[str, str] = ("open_lane", "close_lane"),
    ) -> PendingLaneChange | None:
        row = await self.session.scalar(
            select(AuditRow)
            .where(
                AuditRow.gate_id == gate_id,
                AuditRow.target == lane_id,
                AuditRow.action.in_(actions),
                AuditRow.at >= since,
            )
            .order_by(AuditRow.seq.desc())
            .limit(1)
        )
        event_id = None if row is None else row.details.get("lane_event_id")
        if row is None or not event_id:
            return None
        if await self.session.get(LaneEventRow, event_id) is not None:
            return None  # applied: the board says
        return PendingLaneChange(row.action == actions[0], f"{row.actor} ({row.reason})")

    async def alert_state(self, alert_id: str) -> AlertState | None:
        row = await alerts.get_alert(session=self.session, alert_id=alert_id, for_update=True)
        if row is None:
            return None
        return AlertState(
            row.alert_id, row.gate_id, row.rule, row.subject, row.severity, row.status
        )

    async def set_alert_status(
        self, alert_id: str, *, status: str, by: str, reason: str, at: datetime
    ) -> None:
        row = await alerts.get_alert(session=self.session, alert_id=alert_id)
        assert row is not None
        row.status, row.status_by, row.status_reason, row.status_at = status, by, reason, at
        await self.session.flush()

    async def alert_views(self, alert_id: str, *, change: str) -> AlertViews:
        row = await alerts.get_alert(session=self.session, alert_id=alert_id)
        assert row is not None
        return AlertViews(alerts.row_json(row), alerts.wire_values(row, change))  # type: ignore[arg-type]

    async def release_holds(
        self, visit_id: str, *, by: str, reason: str, at: datetime, ended: str = "released"
    ) -> list[AlertViews]:
        change = alerts.hold_end(ended)
        rows = await alerts.release_holds(
            session=self.session, visit_id=visit_id, by=by, reason=reason, at=at, ended=change
        )
        return [AlertViews(alerts.row_json(r), alerts.wire_values(r, change)) for r in rows]


def sql_control_stores(sessions: async_sessionmaker[AsyncSession]) -> ControlStores:
    """A transaction for the control room's actions (`SqlControlStore`), as below."""
    return transactions(sessions, SqlControlStore)


def sql_gate_stores(sessions: async_sessionmaker[AsyncSession]) -> GateStores:
    """Opens a transaction on the database: a `SqlGateStore` in a session that commits when
    the block ends normally and rolls back when it raises. The stores of one factory (one
    worker) share a `KeptBookings`, forgotten when a transaction does not commit."""
    kept = KeptBookings()
    return transactions(
        sessions, lambda session: SqlGateStore(session, kept), on_rollback=kept.forget
    )
