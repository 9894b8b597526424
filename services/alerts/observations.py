"""What the alert rules read, loaded from the database for one gate up to an event-time
`now`: the gate's plate reads (as the decider resolved them), weighings and booking events
inside a look-back, and every version of the manifests they name."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.alerts import (
    AlertRules,
    BookingChange,
    BookingKind,
    ManifestVersion,
    Observations,
    Sighting,
    WeighIn,
)
from lanes.alerts.evaluate import lookback
from lanes.model import CustomsChannel, CustomsStatus, Direction, Gate, Manifest
from lanes.plates import normalise_plate
from services.db.alert_tables import WeighingRow
from services.db.booking_tables import BookingEventRow
from services.db.tables import ManifestRow, ManifestVersionRow, PlateReadRow

# a firm's booking behaviour (no-show rate, rebooking, bursts) is judged over this much of
# its history; an ASSUMPTION (docs/alerts.md)
BOOKING_LOOKBACK = timedelta(days=7)


async def observations(
    session: AsyncSession, gate: Gate, rules: AlertRules, *, now: datetime
) -> Observations:
    """Everything the rules read, in full (the live worker keeps the booking look-back:
    `services.alerts.kept`)."""
    sightings, weighings = await window(session, gate, rules, now=now)
    changes = await loaded_changes(session, gate.gate_id, since=now - BOOKING_LOOKBACK)
    versions = await manifest_versions(
        session, plates_of(sightings, weighings), {c.manifest_id for c in changes}
    )
    return Observations(
        sightings=sightings, manifests=versions, weighings=weighings, bookings=changes
    )


async def window(
    session: AsyncSession, gate: Gate, rules: AlertRules, *, now: datetime
) -> tuple[tuple[Sighting, ...], tuple[WeighIn, ...]]:
    """The gate's plate reads and weighings in the rules' look-back up to `now`."""
    since = now - lookback(rules)
    reads = await session.scalars(
        select(PlateReadRow)
        .where(PlateReadRow.gate_id == gate.gate_id)
        .where(PlateReadRow.captured_at >= since, PlateReadRow.captured_at <= now)
    )
    seen = (s for row in reads if (s := row_sighting(gate, row)) is not None)
    sightings = tuple(sorted(seen, key=lambda s: (s.at, s.event_id)))
    return sightings, await weighings_window(session, gate, since=since, now=now)


def row_sighting(gate: Gate, row: PlateReadRow | Mapping[str, Any]) -> Sighting | None:
    """A `plate_reads` row (an ORM row, or the values inserted) as the rules see it."""
    get: Callable[[str], Any] = (
        row.__getitem__ if isinstance(row, Mapping) else row.__getattribute__
    )
    return sighting(
        gate,
        event_id=get("event_id"),
        camera_id=get("camera_id"),
        at=get("captured_at").astimezone(UTC),
        plate=get("plate"),
        plate_text=get("plate_text"),
        payload=get("payload"),
    )


async def weighings_window(
    session: AsyncSession, gate: Gate, *, since: datetime, now: datetime
) -> tuple[WeighIn, ...]:
    """The gate's weighings with `since <= captured_at <= now`."""
    weighed = await session.scalars(
        select(WeighingRow)
        .where(WeighingRow.gate_id == gate.gate_id)
        .where(WeighingRow.captured_at >= since, WeighingRow.captured_at <= now)
    )
    return tuple(
        weigh_in(
            event_id=row.event_id,
            station_id=row.station_id,
            gate_id=row.gate_id,
            at=row.captured_at,
            plate=row.plate,
            gross_weight_kg=row.gross_weight_kg,
            payload=row.payload,
        )
        for row in weighed
    )


def plates_of(sightings: Iterable[Sighting], weighings: Iterable[WeighIn]) -> set[str]:
    """Every plate text the reads and weighings show: those the rules ask manifests about."""
    plates = {t for s in sightings for t in (s.plate, *s.alternatives)}
    return plates | {t for w in weighings for t in (w.plate, *w.alternatives)}


def sighting(
    gate: Gate,
    *,
    event_id: str,
    camera_id: str,
    at: datetime,
    plate: str,
    plate_text: str,
    payload: Mapping[str, Any],
) -> Sighting | None:
    """A stored plate read (the `plate_reads` columns) as the rules see it."""
    camera = gate.camera(camera_id)
    if camera is None:
        return None
    texts = [plate, normalise_plate(plate_text)]
    texts += [normalise_plate(str(c.get("text", ""))) for c in payload.get("candidates", [])]
    alternatives = tuple(t for t in dict.fromkeys(texts) if t and t != plate)
    return Sighting(
        event_id=event_id,
        gate_id=gate.gate_id,
        camera_id=camera_id,
        role=camera.role,
        direction=camera.direction,
        at=at,
        plate=plate,
        alternatives=alternatives,
        containers=tuple(payload.get("container_numbers", [])),
    )


def weigh_in(
    *,
    event_id: str,
    station_id: str,
    gate_id: str,
    at: datetime,
    plate: str,
    gross_weight_kg: float,
    payload: Mapping[str, Any],
) -> WeighIn:
    """A stored weighing (the `weighings` columns) as the rules see it."""
    return WeighIn(
        event_id=event_id,
        station_id=station_id,
        gate_id=gate_id,
        at=at,
        plate=plate,
        gross_weight_kg=gross_weight_kg,
        alternatives=tuple(normalise_plate(t) for t in payload.get("plate_candidates", []) if t),
    )


async def loaded_changes(
    session: AsyncSession, gate_id: str, *, since: datetime
) -> tuple[BookingChange, ...]:
    rows = await session.scalars(
        select(BookingEventRow)
        .where(BookingEventRow.occurred_at >= since)
        .order_by(BookingEventRow.occurred_at, BookingEventRow.event_id)
    )
    return tuple(c for row in rows if (c := row_change(gate_id, row)) is not None)


def row_change(gate_id: str, row: BookingEventRow) -> BookingChange | None:
    """A `booking_events` row as the rules see it; None for another gate's."""
    return booking_change(
        gate_id,
        event_id=row.event_id,
        booking_id=row.booking_id,
        type_=row.type,
        payload=row.payload,
        at=row.occurred_at,
    )


# the booking events the rules weigh: every change of a booking (`BookingKind`)
_CHANGES = frozenset(f"booking.{kind.value}" for kind in BookingKind)


def booking_change(
    gate_id: str,
    *,
    event_id: str,
    booking_id: str,
    type_: str,
    payload: Mapping[str, Any],
    at: datetime,
) -> BookingChange | None:
    """A stored booking event as the rules see it; None for another gate's, and for an
    event that is not a change of the booking (`booking.checked_in`: the truck is in the
    waiting area; the rules weigh changes only)."""
    p = payload
    if p.get("gate_id") != gate_id or type_ not in _CHANGES:
        return None
    return BookingChange(
        event_id=event_id,
        booking_id=booking_id,
        firm_id=str(p["firm_id"]),
        manifest_id=str(p["manifest_id"]),
        gate_id=gate_id,
        kind=BookingKind(type_.removeprefix("booking.")),
        at=at,
        slot_start=datetime.fromisoformat(str(p["slot_start"])),
        # the booking events carry no API key: the firm stands for it (docs/alerts.md)
        key_id=str(p.get("key_id") or f"firm-{p['firm_id']}"),
    )


async def manifest_versions(
    session: AsyncSession, plates: Iterable[str], manifest_ids: Iterable[str]
) -> tuple[ManifestVersion, ...]:
    plates, manifest_ids = sorted(set(plates)), sorted(set(manifest_ids))
    if not plates and not manifest_ids:
        return ()
    ids = await session.scalars(
        select(ManifestRow.manifest_id).where(
            or_(ManifestRow.tractor_plate.in_(plates), ManifestRow.manifest_id.in_(manifest_ids))
        )
    )
    wanted = sorted(set(ids))
    if not wanted:
        return ()
    rows = await session.scalars(
        select(ManifestVersionRow)
        .where(ManifestVersionRow.manifest_id.in_(wanted))
        .order_by(ManifestVersionRow.manifest_id, ManifestVersionRow.version)
    )
    return tuple(v for row in rows if (v := row_version(row)) is not None)


def row_version(row: ManifestVersionRow) -> ManifestVersion | None:
    """A `manifest_versions` row as the rules see it; None for a version an older release
    stored that no longer reads."""
    try:
        manifest = stored_manifest(row.payload, row.firm_id)
    except (KeyError, TypeError, ValueError):
        return None
    # from the events' clock when it was stored, not the wall clock's `recorded_at`
    return ManifestVersion(manifest, row.version, ManifestVersion.counted_from(row.clock_at))


def stored_manifest(p: dict[str, Any], firm_id: str) -> Manifest:
    """A stored version (`services.db.convert.manifest_payload`'s shape), not re-validated:
    seeded manifests may lack what the intake form requires."""
    cargo = p.get("cargo") or {}
    channel = p.get("customs_channel")
    return Manifest(
        manifest_id=str(p["manifest_id"]),
        firm_id=firm_id,
        direction=Direction(p["direction"]),
        tractor_plate=str(p["tractor_plate"]),
        trailer_plate=p.get("trailer_plate"),
        containers=tuple(p.get("containers") or ()),
        cargo_description=str(cargo.get("description") or ""),
        hs_codes=tuple(cargo.get("hs_codes") or ()),
        gross_weight_kg=cargo.get("gross_weight_kg"),
        perishable=bool(p.get("perishable", False)),
        hazmat_class=p.get("hazmat_class"),
        customs_status=CustomsStatus(p.get("customs_status", "cleared")),
        window_start=_time(p.get("window_start")),
        window_end=_time(p.get("window_end")),
        customs_channel=None if channel is None else CustomsChannel(channel),
    )


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))
