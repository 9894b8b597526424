"""Manifests in the database: versioned writes with their history, the plate-key index the
matcher searches, and the look-ups of the API. Keyword-only session; batch-shaped: each step
is one statement for the whole batch, not one per manifest."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, cast

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.alerts.model import stored_at_clock
from lanes.bookings import BookingState
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
from lanes.similarity import KEY_SCHEME, index_keys
from services.db.booking_tables import BookingRow
from services.db.convert import manifest_from_row, manifest_payload, manifest_values
from services.db.repository import _insert, is_postgres
from services.db.tables import (
    GateRow,
    ManifestPlateKeyRow,
    ManifestRow,
    ManifestVersionRow,
    MetaRow,
)
from services.db.visits import gate_clock

SOURCES = frozenset({"http", "import", "topic", "simulator", "xborder"})  # xborder: issue 21
CHUNK = 500  # manifests per statement (18 columns each: well under both databases' limits)
KEYS_PER_QUERY = 10_000
_SEQ_LOCK_ID = 0x6D736571  # "mseq": serialises the numbering of manifest versions
PLATE_KEY_SCHEME = "plate_key_scheme"  # the borderflow_meta row naming the keys' KEY_SCHEME


class EventClock(Enum):
    """`store_manifests`' default `clock_at`: the system's event-time clock as it is now."""

    NOW = "now"


async def store_manifests(
    *,
    session: AsyncSession,
    manifests: Sequence[Manifest],
    source: str,
    now: datetime,
    firm_scope: str | None = None,
    clock_at: datetime | EventClock | None = EventClock.NOW,
) -> list[StoreResult]:
    """Create or version `manifests` (one result each, in order) in the caller's transaction.

    `now` is the wall clock, kept as `recorded_at` (operations); each new version counts for
    the risk alerts' rules from `clock_at`, by default the system's event-time clock now
    (`event_clock`: the newest read decided; None: none yet, from the start). The
    simulation gives its own (a version planned for a time of its day), the replay the
    recorded one.

    A firm never overwrites another firm's manifest: such an id is refused, with a reason
    that does not name the owner. With `firm_scope` (an authenticated caller), a manifest of
    any other firm is refused too. Identical content is `unchanged` (no new version), so a
    redelivery or a re-import is harmless. An id listed twice is stored twice, in order."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {sorted(SOURCES)}, got {source!r}")
    results: list[StoreResult | None] = [None] * len(manifests)
    rounds: list[list[tuple[int, Manifest]]] = []
    seen: dict[str, int] = {}
    from_clock = clock_at is EventClock.NOW
    counted_from = await event_clock(session) if clock_at is EventClock.NOW else clock_at
    for i, m in enumerate(manifests):
        if firm_scope is not None and m.firm_id != firm_scope:
            results[i] = not_the_callers(m)
            continue
        n = seen[m.manifest_id] = seen.get(m.manifest_id, -1) + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append((i, m))
    for batch in rounds:
        batch.sort(key=lambda item: item[1].manifest_id)  # one lock order: no deadlock
        for start in range(0, len(batch), CHUNK):
            chunk = batch[start : start + CHUNK]
            stored = await _store_unique(
                session, [m for _, m in chunk], source, now, counted_from, from_clock=from_clock
            )
            for (i, _), result in zip(chunk, stored, strict=True):
                results[i] = result
    return [r for r in results if r is not None]


async def _store_unique(
    session: AsyncSession,
    manifests: Sequence[Manifest],
    source: str,
    now: datetime,
    clock_at: datetime | None,
    *,
    from_clock: bool = False,
) -> list[StoreResult]:
    """Store manifests of distinct ids (sorted by id). `from_clock`: `clock_at` is the
    events' clock now, each version placed on it by `stored_at_clock`."""
    table = ManifestRow.__table__
    # Claim the new ids first, insert-on-conflict: two writers of one new id never collide
    # (on PostgreSQL the second waits for the first, then finds the row).
    new_rows = [
        manifest_values(m) | {"version": 1, "source": source, "created_at": now, "updated_at": now}
        for m in manifests
    ]
    claim = (
        _insert(session, table)
        .values(new_rows)
        .on_conflict_do_nothing(index_elements=["manifest_id"])
        .returning(table.c.manifest_id)
    )
    created = set(await session.scalars(claim))
    existing = [m.manifest_id for m in manifests if m.manifest_id not in created]
    current: dict[str, ManifestRow] = {}
    if existing:
        rows = await session.scalars(
            select(ManifestRow)
            .where(ManifestRow.manifest_id.in_(existing))
            .order_by(ManifestRow.manifest_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        current = {row.manifest_id: row for row in rows}

    booked = await _booked_turning(session, manifests, current)
    results: list[StoreResult] = []
    updates: list[dict[str, Any]] = []
    versions: list[tuple[Manifest, int]] = []
    rekey: list[Manifest] = []
    for m in manifests:
        if m.manifest_id in created:
            stored = StoredManifest(m, 1, source, created_at=now, updated_at=now)
            results.append(StoreResult(m.manifest_id, StoreStatus.CREATED, stored))
            versions.append((m, 1))
            rekey.append(m)
            continue
        row = current[m.manifest_id]
        if row.firm_id != m.firm_id:
            results.append(id_taken(m.manifest_id))
            continue
        before = manifest_from_row(row)
        if before == m:
            results.append(StoreResult(m.manifest_id, StoreStatus.UNCHANGED, _from_row(row)))
            continue
        if m.manifest_id in booked:
            booking_id, slot = booked[m.manifest_id]
            if (field := booked_change(before, m)) is not None:
                results.append(booked_refusal(m, booking_id, field))
                continue
            if (off := booked_off_window(before, m, booking_id, slot)) is not None:
                results.append(off)
                continue
        version = row.version + 1
        updates.append(
            manifest_values(m) | {"version": version, "source": source, "updated_at": now}
        )
        versions.append((m, version))
        if (before.tractor_plate, before.trailer_plate) != (m.tractor_plate, m.trailer_plate):
            rekey.append(m)
        stored = StoredManifest(m, version, source, created_at=row.created_at, updated_at=now)
        results.append(StoreResult(m.manifest_id, StoreStatus.UPDATED, stored))

    if updates:
        await session.execute(update(ManifestRow), updates)
    if versions:
        first = await next_version_seq(session)
        await session.execute(
            _insert(session, ManifestVersionRow),
            [
                {
                    "manifest_id": m.manifest_id,
                    "version": v,
                    "firm_id": m.firm_id,
                    "payload": manifest_payload(m),
                    "source": source,
                    "recorded_at": now,
                    "clock_at": stored_at_clock(clock_at, m.window_end) if from_clock else clock_at,
                    "seq": first + i,
                }
                for i, (m, v) in enumerate(versions)
            ],
        )
    await _replace_plate_keys(session, rekey, fresh=created)
    return results


async def _booked_turning(
    session: AsyncSession, manifests: Sequence[Manifest], current: dict[str, ManifestRow]
) -> dict[str, tuple[str, tuple[datetime, datetime]]]:
    """manifest id -> its active booking and that booking's slot, for the amendments (of the
    same firm) that change what a booking's capacity accounting counts (`booked_change`:
    the direction, whether the cargo is perishable), refused for a manifest holding one, or
    its crossing window, refused when the slot no longer meets it (`booked_off_window`)."""
    turning = [
        m.manifest_id
        for m in manifests
        if (row := current.get(m.manifest_id)) is not None
        and row.firm_id == m.firm_id
        and (
            booked_change(before := manifest_from_row(row), m) is not None
            or (before.window_start, before.window_end) != (m.window_start, m.window_end)
        )
    ]
    if not turning:
        return {}
    rows = await session.execute(
        select(
            BookingRow.manifest_id,
            BookingRow.booking_id,
            BookingRow.slot_start,
            BookingRow.slot_end,
        ).where(BookingRow.manifest_id.in_(turning), BookingRow.status == BookingState.ACTIVE.value)
    )
    return {
        manifest_id: (booking_id, (start, end))
        for manifest_id, booking_id, start, end in rows.all()
    }


async def event_clock(session: AsyncSession) -> datetime | None:
    """The system's event-time clock: the newest read decided at any gate (each gate's
    `visits.gate_clock`, one indexed look-up a gate); None before the first. What a manifest
    version stored now counts from in the rules: the reads' clock, never the wall clock
    (until 2026-12-06 the rules compared the version's wall-clock `recorded_at` with the
    reads' event time, so a manifest filed today did not count for an earlier day's truck)."""
    clocks = [
        at
        for gate_id in (await session.scalars(select(GateRow.gate_id))).all()
        if (at := await gate_clock(session=session, gate_id=gate_id)) is not None
    ]
    return max(clocks, default=None)


async def next_version_seq(session: AsyncSession) -> int:
    """The first free manifest version `seq`. PostgreSQL: taken under a transaction-scoped
    advisory lock, so manifest writers commit in `seq` order and any transaction that sees
    version n sees every version before it (what a decision batch knew is then exactly the
    versions up to the highest `seq` it saw: `visible_version_seq`). SQLite has one writer
    at a time."""
    if is_postgres(session):
        await session.execute(select(func.pg_advisory_xact_lock(_SEQ_LOCK_ID)))
    return await visible_version_seq(session) + 1


async def visible_version_seq(session: AsyncSession) -> int:
    """The highest manifest version `seq` this transaction sees (0: none yet)."""
    found = await session.scalar(select(func.max(ManifestVersionRow.seq)))
    return int(found or 0)


def plate_key_rows(manifest: Manifest) -> list[dict[str, str]]:
    """The index rows of a manifest: `index_keys` of its tractor and its trailer plate."""
    rows = []
    for role, plate in (("tractor", manifest.tractor_plate), ("trailer", manifest.trailer_plate)):
        rows += [
            {"key": key, "manifest_id": manifest.manifest_id, "role": role}
            for key in sorted(index_keys(plate or ""))
        ]
    return rows


async def _replace_plate_keys(
    session: AsyncSession, manifests: Sequence[Manifest], *, fresh: set[str]
) -> None:
    stale = sorted({m.manifest_id for m in manifests} - fresh)
    if stale:
        await session.execute(
            delete(ManifestPlateKeyRow).where(ManifestPlateKeyRow.manifest_id.in_(stale))
        )
    rows = [row for m in manifests for row in plate_key_rows(m)]
    if rows:
        stmt = _insert(session, ManifestPlateKeyRow).on_conflict_do_nothing(
            index_elements=["key", "manifest_id", "role"]
        )
        await session.execute(stmt, rows)


async def rebuild_plate_keys(*, session: AsyncSession, batch: int = 2_000) -> int | None:
    """Rebuild every manifest's plate keys if they were built by another `KEY_SCHEME` than
    this code's (or none is recorded); returns how many manifests, or None when current.
    On PostgreSQL the scheme row is locked, so concurrent starters rebuild once."""
    await session.execute(
        _insert(session, MetaRow)
        .values(name=PLATE_KEY_SCHEME, value="")
        .on_conflict_do_nothing(index_elements=["name"])
    )
    query = select(MetaRow).where(MetaRow.name == PLATE_KEY_SCHEME)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    meta = await session.scalar(query)
    assert meta is not None
    if meta.value == str(KEY_SCHEME):
        return None
    await session.execute(delete(ManifestPlateKeyRow))
    done, after = 0, ""
    while True:
        rows = (
            await session.scalars(
                select(ManifestRow)
                .where(ManifestRow.manifest_id > after)
                .order_by(ManifestRow.manifest_id)
                .limit(batch)
            )
        ).all()
        if not rows:
            break
        keys = [k for row in rows for k in plate_key_rows(manifest_from_row(row))]
        if keys:
            await session.execute(_insert(session, ManifestPlateKeyRow), keys)
        done, after = done + len(rows), rows[-1].manifest_id
    meta.value = str(KEY_SCHEME)
    return done


async def upsert_manifests(
    *,
    session: AsyncSession,
    manifests: Sequence[Manifest],
    now: datetime,
    clock_at: datetime | EventClock | None = EventClock.NOW,
) -> None:
    """Seed manifests (simulator, tests, benchmarks): `store_manifests` with source
    "simulator"; a refusal (an id of another firm) raises instead of passing unnoticed."""
    results = await store_manifests(
        session=session, manifests=manifests, source="simulator", now=now, clock_at=clock_at
    )
    refused = [f"{r.manifest_id}: {r.reason}" for r in results if r.status is StoreStatus.REFUSED]
    if refused:
        raise ValueError(f"{len(refused)} manifest(s) refused: {'; '.join(refused[:5])}")


async def manifests_for_keys(
    *, session: AsyncSession, keys: Iterable[str], ended_after: datetime
) -> list[Manifest]:
    """The manifests filed under any of `keys` (tractor or trailer plate) whose window is
    open-ended or ends at or after `ended_after`, each once, by id. One query (one per
    10,000 keys: both databases cap the bound parameters of a statement near 32,767)."""
    wanted = sorted({k for k in keys if k})
    found: dict[str, Manifest] = {}
    for start in range(0, len(wanted), KEYS_PER_QUERY):
        chunk = wanted[start : start + KEYS_PER_QUERY]
        # two index look-ups (keys, then primary keys) rather than one semi-join, which the
        # planner may answer with a scan of every manifest
        ids = sorted(
            set(
                await session.scalars(
                    select(ManifestPlateKeyRow.manifest_id).where(
                        ManifestPlateKeyRow.key.in_(chunk)
                    )
                )
            )
        )
        for first in range(0, len(ids), KEYS_PER_QUERY):
            # plain rows, not ORM objects: read-only, and a batch may load thousands
            rows = await session.execute(
                select(*ManifestRow.__table__.c).where(
                    ManifestRow.manifest_id.in_(ids[first : first + KEYS_PER_QUERY]),
                    or_(ManifestRow.window_end.is_(None), ManifestRow.window_end >= ended_after),
                )
            )
            found.update(
                (row.manifest_id, manifest_from_row(cast(ManifestRow, row))) for row in rows
            )
    return [found[i] for i in sorted(found)]


def _from_row(row: ManifestRow) -> StoredManifest:
    return StoredManifest(
        manifest_from_row(row), row.version, row.source, row.created_at, row.updated_at
    )


async def get_manifest(
    *, session: AsyncSession, firm_id: str, manifest_id: str
) -> StoredManifest | None:
    """A firm's manifest; None for a missing id and for another firm's alike."""
    row = await session.scalar(
        select(ManifestRow)
        .where(ManifestRow.manifest_id == manifest_id, ManifestRow.firm_id == firm_id)
        .execution_options(populate_existing=True)
    )
    return None if row is None else _from_row(row)


async def list_manifests(
    *, session: AsyncSession, firm_id: str, limit: int, after: str | None = None
) -> list[StoredManifest]:
    """A page of a firm's manifests by id (keyset: the ids after `after`)."""
    query = select(ManifestRow).where(ManifestRow.firm_id == firm_id)
    if after is not None:
        query = query.where(ManifestRow.manifest_id > after)
    rows = await session.scalars(
        query.order_by(ManifestRow.manifest_id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    return [_from_row(row) for row in rows]
