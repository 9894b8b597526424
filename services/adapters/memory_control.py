"""The control room's state in memory (`ControlStore`, services/ports/__init__.py): the
gate's state of `memory_gate.py` with the audit log as a list and the controllers' alert
changes, for the unit tests of the control room's use cases (no database, no broker)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from lanes.actions import PendingLaneChange
from lanes.model import Manifest
from lanes.visits import VisitTrack
from services.adapters.memory_gate import CLOSED_ALERTS, MemoryGateData, MemoryGateStore
from services.ports import AlertState, AlertViews, AuditEntry, ControlStore, ControlStores


@dataclass
class MemoryControlData:
    gate: MemoryGateData = field(default_factory=MemoryGateData)
    audit_log: list[AuditEntry] = field(default_factory=list)  # entry `seq` = index + 1
    alert_changes: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> by, why

    def stores(self) -> ControlStores:
        @asynccontextmanager
        async def transaction() -> AsyncIterator[ControlStore]:
            yield MemoryControlStore(self)

        return transaction


class MemoryControlStore(MemoryGateStore):
    def __init__(self, data: MemoryControlData) -> None:
        super().__init__(data.gate)
        self.control = data

    async def visit(self, visit_id: str) -> VisitTrack | None:
        return self.data.visits.get(visit_id)

    async def manifest(self, manifest_id: str) -> Manifest | None:
        found = self.data.manifests.get(manifest_id)
        return None if found is None else found.current

    async def audit(self, entry: AuditEntry) -> int:
        self.control.audit_log.append(entry)
        return len(self.control.audit_log)

    async def pending_lane_change(
        self,
        gate_id: str,
        lane_id: str,
        *,
        since: datetime,
        actions: tuple[str, str] = ("open_lane", "close_lane"),
    ) -> PendingLaneChange | None:
        for entry in reversed(self.control.audit_log):
            if entry.action in actions and (entry.gate_id, entry.target) == (gate_id, lane_id):
                event_id = entry.details.get("lane_event_id")
                if entry.at < since or not event_id or event_id in self.data.lane_events:
                    return None
                return PendingLaneChange(
                    entry.action == actions[0], f"{entry.actor} ({entry.reason})"
                )
        return None

    async def alert_state(self, alert_id: str) -> AlertState | None:
        found = self.data.alerts.get(alert_id)
        if found is None:
            return None
        a = found.alert
        return AlertState(a.alert_id, a.gate_id, a.rule, a.subject, a.severity.value, found.status)

    async def set_alert_status(
        self, alert_id: str, *, status: str, by: str, reason: str, at: datetime
    ) -> None:
        self.data.alerts[alert_id].status = status
        self.control.alert_changes[alert_id] = (by, reason)

    async def release_holds(
        self, visit_id: str, *, by: str, reason: str, at: datetime, ended: str = "released"
    ) -> list[AlertViews]:
        held = sorted(
            (
                a
                for a in self.data.alerts.values()
                if a.held_visit_id == visit_id
                and a.released_at is None
                and a.status not in CLOSED_ALERTS
            ),
            key=lambda a: (a.alert.raised_at, a.alert.alert_id),
        )
        for a in held:
            a.released_by, a.released_at, a.release_reason = by, at, reason
            a.released_as = ended
        return [await self.alert_views(a.alert.alert_id, change=ended) for a in held]

    async def alert_views(self, alert_id: str, *, change: str) -> AlertViews:
        state = self.data.alerts[alert_id]
        a = state.alert
        by, why = self.control.alert_changes.get(alert_id, (None, None))
        if change in {"released", "turned_away"}:
            by, why = state.released_by, state.release_reason
        shown = {
            "alert_id": a.alert_id,
            "rule": a.rule,
            "severity": a.severity.value,
            "subject": a.subject,
            "gate_id": a.gate_id,
            "raised_at": a.raised_at.isoformat(),
            "explanation": a.explanation,
            "evidence": list(a.evidence),
            "hold": a.hold,
            "held_visit_id": state.held_visit_id,
            "released_by": state.released_by,
            "released_at": None if state.released_at is None else state.released_at.isoformat(),
            "release_reason": state.release_reason,
            "released_as": state.released_as,
            "status": state.status,
        }
        wire = shown | {
            "raised_at": a.raised_at,
            "released_at": state.released_at,
            "change": change,
            "changed_by": by,
            "reason": why,
        }
        status_by, status_why = self.control.alert_changes.get(alert_id, (None, None))
        return AlertViews(shown | {"status_by": status_by, "status_reason": status_why}, wire)
