"""The control room's state in memory (`ControlStore`, services/ports/__init__.py): the
gate's state of `memory_gate.py` with the audit log as a list, for the unit tests of the
control room's use case (no database, no broker)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from lanes.model import Manifest
from lanes.visits import VisitTrack
from services.adapters.memory_gate import MemoryGateData, MemoryGateStore
from services.ports import AuditEntry, ControlStore, ControlStores


@dataclass
class MemoryControlData:
    gate: MemoryGateData = field(default_factory=MemoryGateData)
    audit_log: list[AuditEntry] = field(default_factory=list)  # entry `seq` = index + 1

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
