"""The alert step's look-back of plate reads and the manifest versions it asks about, kept
in the worker (issue 26): until now every batch loaded the gate's whole look-back of reads
(2 h 20 min with the default rules) and every version of the manifests they name, so a
batch of a few reads cost tens of milliseconds more as the look-back filled.

- **Reads** (`KeptReads`, per gate): the reads from the look-back's start on, as the rules
  see them (`Sighting`), loaded on the gate's first batch; then each batch adds the rows
  it inserted itself, drops what left the look-back, and asks the database one count over
  the `(gate_id, captured_at)` index. The kept reads are always reads the database holds
  (only committed rows and the batch's own are added, and a rollback forgets everything:
  `KeptBookings.forget`), so the same count means the same reads; another count (a read
  another worker stored, a batch split across workers) loads the event ids in the window
  and the rows missing.
- **Manifest versions** (`KeptVersions`, per worker): for each plate asked about, the
  manifests whose tractor plate it is now, and each such manifest's versions. Every change
  of a manifest writes a version with a `seq`, and versions commit in `seq` order
  (`services.db.manifests.next_version_seq`); each batch reads the versions after the last
  `seq` it saw and forgets the manifests they are of, and the plates those named before
  and name now; those are asked again. Plates and manifests no longer asked about are
  dropped after the batch, so what is kept follows the look-back.

The objects handed to the rules are the same from one batch to the next, which is what the
incremental rules (`lanes.alerts.incremental`) recognise."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.alerts import ManifestVersion, Sighting
from lanes.model import Gate
from services.alerts.observations import row_sighting, row_version
from services.db.tables import ManifestRow, ManifestVersionRow, PlateReadRow

IDS_PER_QUERY = 10_000  # both databases cap a statement's bound parameters near 32,767


class VersionTail(NamedTuple):
    manifest_id: str
    payload: dict[str, Any] | None
    seq: int


@dataclass
class GateReads:
    """One gate's reads with `captured_at >= floor`: by event id, and in `(at, event id)`
    order (a read whose camera the gate no longer has is kept as None: it is counted)."""

    floor: datetime
    by_id: dict[str, Sighting | None] = field(default_factory=dict)
    order: list[tuple[datetime, str]] = field(default_factory=list)

    def add(self, event_id: str, at: datetime, seen: Sighting | None) -> None:
        if event_id in self.by_id or at < self.floor:
            return
        self.by_id[event_id] = seen
        bisect.insort(self.order, (at, event_id))

    def drop(self, gone: Iterable[str]) -> None:
        gone = set(gone) & self.by_id.keys()
        for event_id in gone:
            del self.by_id[event_id]
        if gone:
            self.order = [k for k in self.order if k[1] not in gone]

    def evict(self, since: datetime) -> None:
        if since <= self.floor:
            return
        cut = bisect.bisect_left(self.order, (since, ""))
        for _, event_id in self.order[:cut]:
            del self.by_id[event_id]
        del self.order[:cut]
        self.floor = since

    def up_to(self, now: datetime) -> tuple[Sighting, ...]:
        end = bisect.bisect_right(self.order, now, key=lambda k: k[0])
        return tuple(s for _, e in self.order[:end] if (s := self.by_id[e]) is not None)


class KeptReads:
    def __init__(self) -> None:
        self._gates: dict[str, GateReads] = {}
        self.loads = 0  # full loads and repairs (a count that differed): for tests, metrics

    def forget(self) -> None:
        self._gates.clear()

    async def sightings(
        self,
        session: AsyncSession,
        gate: Gate,
        *,
        since: datetime,
        now: datetime,
        added: Sequence[Mapping[str, Any]] = (),
    ) -> tuple[Sighting, ...]:
        """The gate's reads with `since <= captured_at <= now`, in `(at, event id)` order,
        as `observations.window` gives them. `added`: the rows this transaction inserted."""
        kept = self._gates.get(gate.gate_id)
        in_gate = PlateReadRow.gate_id == gate.gate_id
        if kept is None or since < kept.floor:
            kept = self._gates[gate.gate_id] = GateReads(floor=since)
            rows = await session.scalars(
                select(PlateReadRow).where(in_gate, PlateReadRow.captured_at >= since)
            )
            for row in rows:
                kept.add(row.event_id, row.captured_at, row_sighting(gate, row))
            self.loads += 1
            return kept.up_to(now)
        for values in added:
            if values["gate_id"] == gate.gate_id:
                at = values["captured_at"].astimezone(UTC)
                kept.add(values["event_id"], at, row_sighting(gate, values))
        kept.evict(since)
        count = await session.scalar(
            select(func.count())
            .select_from(PlateReadRow)
            .where(in_gate, PlateReadRow.captured_at >= since)
        )
        if count != len(kept.by_id):
            await self._repair(session, gate, kept, since)
        return kept.up_to(now)

    async def _repair(
        self, session: AsyncSession, gate: Gate, kept: GateReads, since: datetime
    ) -> None:
        """Make `kept` the database's reads from `since`: load the ids, then what is new."""
        self.loads += 1
        ids = set(
            await session.scalars(
                select(PlateReadRow.event_id).where(
                    PlateReadRow.gate_id == gate.gate_id, PlateReadRow.captured_at >= since
                )
            )
        )
        kept.drop(kept.by_id.keys() - ids)
        missing = sorted(ids - kept.by_id.keys())
        for start in range(0, len(missing), IDS_PER_QUERY):
            rows = await session.scalars(
                select(PlateReadRow).where(
                    PlateReadRow.event_id.in_(missing[start : start + IDS_PER_QUERY])
                )
            )
            for row in rows:
                kept.add(row.event_id, row.captured_at, row_sighting(gate, row))


class KeptVersions:
    def __init__(self) -> None:
        self._seq: int | None = None
        self._by_plate: dict[str, frozenset[str]] = {}  # tractor plate now -> manifests
        self._versions: dict[str, tuple[ManifestVersion, ...]] = {}

    def forget(self) -> None:
        self._seq = None
        self._by_plate.clear()
        self._versions.clear()

    async def versions(
        self, session: AsyncSession, plates: Iterable[str], manifest_ids: Iterable[str]
    ) -> tuple[ManifestVersion, ...]:
        """As `observations.manifest_versions`: every version, by manifest id then version,
        of the manifests whose tractor plate is one of `plates` or whose id is one of
        `manifest_ids`. The batch's `tail` has run first."""
        plates, ids = set(plates), set(manifest_ids)
        missing = sorted(plates - self._by_plate.keys())
        for p in missing:
            self._by_plate[p] = frozenset()
        for start in range(0, len(missing), IDS_PER_QUERY):
            rows = await session.execute(
                select(ManifestRow.manifest_id, ManifestRow.tractor_plate).where(
                    ManifestRow.tractor_plate.in_(missing[start : start + IDS_PER_QUERY])
                )
            )
            for manifest_id, plate in rows:
                self._by_plate[plate] |= {manifest_id}
        wanted = ids.union(*(self._by_plate[p] for p in plates))
        # an id asked for that names no manifest stays unknown: none of its versions exist
        unknown = sorted(wanted - self._versions.keys())
        found: dict[str, list[ManifestVersion]] = {m: [] for m in unknown}
        for start in range(0, len(unknown), IDS_PER_QUERY):
            stored = await session.scalars(
                select(ManifestVersionRow)
                .where(ManifestVersionRow.manifest_id.in_(unknown[start : start + IDS_PER_QUERY]))
                .order_by(ManifestVersionRow.manifest_id, ManifestVersionRow.version)
            )
            for row in stored:
                if (version := row_version(row)) is not None:
                    found[row.manifest_id].append(version)
        self._versions.update((m, tuple(v)) for m, v in found.items())
        self._keep(plates, wanted)
        return tuple(v for m in sorted(wanted) for v in self._versions[m])

    async def tail(self, session: AsyncSession) -> tuple[int, list[VersionTail]]:
        """Forget what the versions written since the last batch change; returns the `seq`
        they were read after and the versions (manifest id, payload, seq), which the
        booking look-back uses too (one statement a batch for both)."""
        if self._seq is None:
            self._seq = int(await session.scalar(select(func.max(ManifestVersionRow.seq))) or 0)
            return self._seq, []
        after = self._seq
        rows = [
            VersionTail(manifest_id, payload, seq)
            for manifest_id, payload, seq in await session.execute(
                select(
                    ManifestVersionRow.manifest_id,
                    ManifestVersionRow.payload,
                    ManifestVersionRow.seq,
                ).where(ManifestVersionRow.seq > after)
            )
        ]
        for manifest_id, payload, seq in rows:
            self._seq = max(self._seq, seq)
            self._versions.pop(manifest_id, None)
            # the plates it was kept under, and the one it names now, are asked again
            stale = {p for p, named in self._by_plate.items() if manifest_id in named}
            plate = (payload or {}).get("tractor_plate")
            if isinstance(plate, str):
                stale.add(plate)
            for p in stale:
                self._by_plate.pop(p, None)
        return after, rows

    def _keep(self, plates: set[str], wanted: set[str]) -> None:
        """Only what this batch asked about (the next asks about nearly the same)."""
        for p in self._by_plate.keys() - plates:
            del self._by_plate[p]
        for m in self._versions.keys() - wanted:
            del self._versions[m]
