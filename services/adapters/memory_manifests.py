"""The manifest intake's unit of work in memory (unit tests of the use case): the same
results as the database's `store_manifests` for the same inputs, kept in a dict. A
transaction that raises leaves nothing behind."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from lanes.filing import (
    StoredManifest,
    StoreResult,
    StoreStatus,
    booked_change,
    booked_off_window,
    booked_refusal,
    id_taken,
    not_the_callers,
)
from lanes.model import Manifest
from services.ports import ManifestStore, ManifestStores


@dataclass
class MemoryManifests:
    stored: dict[str, StoredManifest] = field(default_factory=dict)
    versions: list[StoredManifest] = field(default_factory=list)  # every version, in order
    # manifest id -> its active booking (the bookings' store is another; tests set it)
    active_bookings: dict[str, str] = field(default_factory=dict)
    # manifest id -> its active booking's slot, where a test gives one (`booked_off_window`)
    booked_slots: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)

    def stores(self) -> ManifestStores:
        @asynccontextmanager
        async def transaction() -> AsyncIterator[ManifestStore]:
            work = MemoryManifestStore(
                dict(self.stored), self.active_bookings, booked_slots=self.booked_slots
            )
            yield work
            self.stored = work.stored
            self.versions.extend(work.versions)

        return transaction


class MemoryManifestStore:
    def __init__(
        self,
        stored: dict[str, StoredManifest],
        active_bookings: dict[str, str] | None = None,
        *,
        booked_slots: dict[str, tuple[datetime, datetime]] | None = None,
    ) -> None:
        self.stored = stored
        self.active_bookings = active_bookings or {}
        self.booked_slots = booked_slots or {}
        self.versions: list[StoredManifest] = []

    async def file(
        self,
        manifests: Sequence[Manifest],
        *,
        source: str,
        now: datetime,
        firm_scope: str | None = None,
    ) -> list[StoreResult]:
        return [self._one(m, source, now, firm_scope) for m in manifests]

    def _one(self, m: Manifest, source: str, now: datetime, firm_scope: str | None) -> StoreResult:
        if firm_scope is not None and m.firm_id != firm_scope:
            return not_the_callers(m)
        found = self.stored.get(m.manifest_id)
        if found is None:
            stored = StoredManifest(m, 1, source, created_at=now, updated_at=now)
            status = StoreStatus.CREATED
        elif found.manifest.firm_id != m.firm_id:
            return id_taken(m.manifest_id)
        elif found.manifest == m:
            return StoreResult(m.manifest_id, StoreStatus.UNCHANGED, found)
        elif m.manifest_id in self.active_bookings and (
            changed := booked_change(found.manifest, m)
        ):
            return booked_refusal(m, self.active_bookings[m.manifest_id], changed)
        elif m.manifest_id in self.booked_slots and (
            off := booked_off_window(
                found.manifest,
                m,
                self.active_bookings[m.manifest_id],
                self.booked_slots[m.manifest_id],
            )
        ):
            return off
        else:
            stored = replace(
                found, manifest=m, version=found.version + 1, source=source, updated_at=now
            )
            status = StoreStatus.UPDATED
        self.stored[m.manifest_id] = stored
        self.versions.append(stored)
        return StoreResult(m.manifest_id, status, stored)
