"""The alert step's booking look-back kept in the worker (issue 26): each gate's booking
changes of the last `BOOKING_LOOKBACK` and the tractor plates of the manifests they name,
loaded from the database on the gate's first batch and kept current from the tables' tails
(`booking_events.seq`, `manifest_versions.seq`), so that a batch reads what changed since
the last one instead of 7 days of bookings.

What a batch then hands the rules (`KeptBookings.observations`):

- the booking changes of the firms whose changes in the judged window (`since <= at <=
  now`) differ from those of the last judged batch (a change came, or went out of the
  window), closed over shared API keys; the other firms' changes gave the same alerts last
  time, which are stored (one per rule and subject), so leaving them out raises nothing
  less (`to_judge`);
- the versions of the manifests whose tractor plate (now) is one the window's reads or
  weighings show, as before, and of the booked manifests only those of which some version
  named such a plate: `Declarations.as_of` is asked about those plates only, and answers
  from the manifests that some version names the plate in.

The kept state is correct only for committed batches: the adapter's unit of work calls
`forget` when a batch rolls back (the next batch loads again). Booking events take their
`seq` from a PostgreSQL sequence without a lock, so one may commit after a higher one was
seen: a missing number is asked for again on every batch for `HOLE_GRACE_S` seconds of the
wall clock (a booking transaction lasts milliseconds); manifest versions commit in `seq`
order (`services.db.manifests.next_version_seq`). ASSUMPTION: a booking transaction that
commits more than `HOLE_GRACE_S` after it took its number, or more than `START_SPAN`
numbers behind the newest when a gate is loaded, is not seen by this worker."""

from __future__ import annotations

import bisect
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.alert_rules import AlertRules
from lanes.alerts import BookingChange, Observations
from lanes.alerts.evaluate import lookback
from lanes.model import Gate
from services.alerts.kept_window import KeptReads, KeptVersions, VersionTail
from services.alerts.observations import (
    BOOKING_LOOKBACK,
    loaded_changes,
    plates_of,
    row_change,
    weighings_window,
)
from services.db.booking_tables import BookingEventRow
from services.db.tables import ManifestVersionRow

HOLE_GRACE_S = 300.0
START_SPAN = 256


def _key(c: BookingChange) -> tuple[datetime, str]:
    return (c.at, c.event_id)


def to_judge(
    effective: Sequence[BookingChange],
    changed: Iterable[BookingChange],
    links: Mapping[str | None, Counter[str]],
) -> tuple[BookingChange, ...]:
    """The changes of `effective` of every firm with a change in `changed`, and of every
    firm sharing an API key with one of those (until no more join; `links`: the firms of
    each key, over the kept changes): each firm's and each key's changes are then
    complete, as the booking rules group them."""
    firms = {c.firm_id for c in changed}
    if not firms:
        return ()
    keys_of: dict[str, set[str | None]] = {}
    for key, named in links.items():
        if len(named) > 1:  # a key of one firm brings no other
            for firm in named:
                keys_of.setdefault(firm, set()).add(key)
    todo = list(firms)
    while todo:
        for key in keys_of.get(todo.pop(), ()):
            for other in links[key]:
                if other not in firms:
                    firms.add(other)
                    todo.append(other)
    return tuple(c for c in effective if c.firm_id in firms)


@dataclass
class GateBookings:
    """One gate's kept changes (in `(at, event_id)` order, none before `floor`) and the
    tractor plates of every version of the manifests they name."""

    changes: list[BookingChange]
    ids: set[str]
    floor: datetime
    seq: int
    holes: dict[int, float]
    version_seq: int
    named: Counter[str] = field(default_factory=Counter)
    plates: dict[str, set[str]] = field(default_factory=dict)
    by_plate: dict[str, set[str]] = field(default_factory=dict)
    links: dict[str | None, Counter[str]] = field(default_factory=dict)
    judged: tuple[datetime, datetime] | None = None

    def window(self, since: datetime) -> list[BookingChange]:
        return self.changes[bisect.bisect_left(self.changes, (since, ""), key=_key) :]

    def between(self, low: datetime, high: datetime) -> list[BookingChange]:
        """The kept changes with `low <= at <= high`."""
        lo = bisect.bisect_left(self.changes, (low, ""), key=_key)
        hi = bisect.bisect_right(self.changes, high, key=lambda c: c.at)
        return self.changes[lo:hi]

    def add_plates(self, manifest_id: str, plate: object) -> None:
        if manifest_id in self.plates and isinstance(plate, str):
            self.plates[manifest_id].add(plate)
            self.by_plate.setdefault(plate, set()).add(manifest_id)

    def booked_naming(self, plates: Iterable[str]) -> set[str]:
        """The booked manifests some version of which names one of `plates` as tractor."""
        return {m for p in plates for m in self.by_plate.get(p, ())}


class KeptBookings:
    """Per worker (one per unit-of-work factory): each gate's `GateBookings`."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._gates: dict[str, GateBookings] = {}
        self._clock = clock
        self.reads = KeptReads()
        self.versions = KeptVersions()

    def forget(self) -> None:
        """A batch rolled back: what it read into the kept state may not exist."""
        self._gates.clear()
        self.reads.forget()
        self.versions.forget()

    def kept(self, gate_id: str) -> GateBookings | None:
        return self._gates.get(gate_id)

    async def observations(
        self,
        session: AsyncSession,
        gate: Gate,
        rules: AlertRules,
        *,
        now: datetime,
        added: Sequence[Mapping[str, Any]] = (),
    ) -> Observations:
        """What the rules must judge at `now` (the module's docstring): the look-back's
        sightings (kept: `kept_window.KeptReads`; `added`, the rows this transaction
        inserted) and weighings, the booking changes of the firms whose window changed,
        and the manifest versions the rules can ask about (`kept_window.KeptVersions`)."""
        since = now - lookback(rules)
        sightings = await self.reads.sightings(session, gate, since=since, now=now, added=added)
        weighings = await weighings_window(session, gate, since=since, now=now)
        plates = plates_of(sightings, weighings)
        tail = await self.versions.tail(session)
        _, judged, kept = await self.changes(
            session, gate.gate_id, since=now - BOOKING_LOOKBACK, now=now, versions=tail
        )
        versions = await self.versions.versions(session, plates, kept.booked_naming(plates))
        return Observations(
            sightings=sightings, manifests=versions, weighings=weighings, bookings=judged
        )

    async def changes(
        self,
        session: AsyncSession,
        gate_id: str,
        *,
        since: datetime,
        now: datetime,
        versions: tuple[int, Sequence[VersionTail]] | None = None,
    ) -> tuple[tuple[BookingChange, ...], tuple[BookingChange, ...], GateBookings]:
        """(every kept change from `since` on, as the full read gives them; those the rules
        must judge at `now`; the gate's kept state, current). `versions`: the manifest
        versions this batch read already (`KeptVersions.tail`: after which `seq`, and
        which), used instead of reading them again when they cover the gate's."""
        kept = self._gates.get(gate_id)
        if kept is None or since < kept.floor:
            kept = self._gates[gate_id] = await self._load(session, gate_id, since=since)
            arrived: list[BookingChange] = list(kept.changes)
        else:
            arrived = await self._tail(session, gate_id, kept)
        await self._track_manifests(session, kept, arrived, versions)
        changed = [c for c in arrived if since <= c.at <= now]
        if kept.judged is None:
            changed = kept.between(since, now)
        else:
            old_since, old_now = kept.judged
            changed += kept.between(min(old_since, since), max(old_since, since))
            changed += kept.between(min(old_now, now), max(old_now, now))
        judged = to_judge(kept.between(since, now), changed, kept.links)
        self._evict(kept, since)
        kept.judged = (since, now)
        return tuple(kept.window(since)), judged, kept

    async def _load(self, session: AsyncSession, gate_id: str, *, since: datetime) -> GateBookings:
        top = int(await session.scalar(select(func.max(BookingEventRow.seq))) or 0)
        recent = await session.scalars(
            select(BookingEventRow.seq).where(BookingEventRow.seq > top - START_SPAN)
        )
        seen = set(recent)
        stamp = self._clock()
        holes = {n: stamp for n in range(max(top - START_SPAN + 1, 1), top + 1) if n not in seen}
        version_seq = int(await session.scalar(select(func.max(ManifestVersionRow.seq))) or 0)
        changes = await loaded_changes(session, gate_id, since=since)
        return GateBookings(
            changes=list(changes),
            ids={c.event_id for c in changes},
            floor=since,
            seq=top,
            holes=holes,
            version_seq=version_seq,
        )

    async def _tail(
        self, session: AsyncSession, gate_id: str, kept: GateBookings
    ) -> list[BookingChange]:
        """The gate's booking events committed since the last batch (and numbers missed)."""
        stamp = self._clock()
        kept.holes = {n: t for n, t in kept.holes.items() if stamp - t <= HOLE_GRACE_S}
        wanted = BookingEventRow.seq > kept.seq
        if kept.holes:
            wanted = or_(wanted, BookingEventRow.seq.in_(sorted(kept.holes)))
        rows = list(await session.scalars(select(BookingEventRow).where(wanted)))
        numbers = {r.seq for r in rows if r.seq is not None}
        top = max([kept.seq, *numbers])
        for n in range(kept.seq + 1, top + 1):
            if n not in numbers:
                kept.holes[n] = stamp
        for n in numbers:
            kept.holes.pop(n, None)
        kept.seq = top
        arrived = []
        for row in rows:
            c = row_change(gate_id, row)
            if c is None or c.event_id in kept.ids or c.at < kept.floor:
                continue
            kept.ids.add(c.event_id)
            bisect.insort(kept.changes, c, key=_key)
            arrived.append(c)
        return arrived

    async def _track_manifests(
        self,
        session: AsyncSession,
        kept: GateBookings,
        arrived: Sequence[BookingChange],
        versions: tuple[int, Sequence[VersionTail]] | None = None,
    ) -> None:
        """The tractor plates of every version of the manifests the kept changes name: of a
        newly named manifest from its versions, of the others from the versions since."""
        new = sorted({c.manifest_id for c in arrived} - kept.plates.keys())
        for c in arrived:
            kept.named[c.manifest_id] += 1
            kept.links.setdefault(c.key_id, Counter())[c.firm_id] += 1
        if versions is not None and versions[0] <= kept.version_seq:
            later = [r for r in versions[1] if r.seq > kept.version_seq]
        else:
            rows = await session.execute(
                select(
                    ManifestVersionRow.manifest_id,
                    ManifestVersionRow.payload,
                    ManifestVersionRow.seq,
                ).where(ManifestVersionRow.seq > kept.version_seq)
            )
            later = [VersionTail(*r) for r in rows]
        kept.version_seq = max([kept.version_seq, *(r.seq for r in later)])
        for manifest_id in new:
            kept.plates[manifest_id] = set()
        for start in range(0, len(new), 1000):
            chunk = new[start : start + 1000]
            named = await session.execute(
                select(ManifestVersionRow.manifest_id, ManifestVersionRow.payload).where(
                    ManifestVersionRow.manifest_id.in_(chunk)
                )
            )
            for manifest_id, payload in named:
                kept.add_plates(manifest_id, (payload or {}).get("tractor_plate"))
        for manifest_id, payload, _ in later:
            kept.add_plates(manifest_id, (payload or {}).get("tractor_plate"))

    def _evict(self, kept: GateBookings, since: datetime) -> None:
        cut = bisect.bisect_left(kept.changes, (since, ""), key=_key)
        for c in kept.changes[:cut]:
            kept.ids.discard(c.event_id)
            firms = kept.links[c.key_id]
            firms[c.firm_id] -= 1
            if firms[c.firm_id] <= 0:
                del firms[c.firm_id]
                if not firms:
                    del kept.links[c.key_id]
            kept.named[c.manifest_id] -= 1
            if kept.named[c.manifest_id] <= 0:
                del kept.named[c.manifest_id]
                for plate in kept.plates.pop(c.manifest_id, ()):
                    named = kept.by_plate.get(plate)
                    if named is not None:
                        named.discard(c.manifest_id)
                        if not named:
                            del kept.by_plate[plate]
        del kept.changes[:cut]
        kept.floor = max(kept.floor, since)
