"""What became of a manifest filed by a firm: created, a new version, the same again, or
refused (its id belongs to another firm). The stores (the database's
`services.db.manifests.store_manifests`, memory's) return these; the manifest use case
(`services/service_layer/manifests.py`) hands them to its entry points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from lanes.booking import meets_window
from lanes.model import Manifest


class StoreStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"  # a new version
    UNCHANGED = "unchanged"  # the same content again: no new version
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class StoredManifest:
    manifest: Manifest
    version: int
    source: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What became of one submitted manifest; `stored` is None only when refused."""

    manifest_id: str
    status: StoreStatus
    stored: StoredManifest | None = None
    reason: str | None = None


def not_the_callers(manifest: Manifest) -> StoreResult:
    """Refused: an authenticated firm filed a manifest of another firm."""
    return StoreResult(
        manifest.manifest_id,
        StoreStatus.REFUSED,
        reason=f"firm_id: {manifest.firm_id!r} is not the firm of the caller",
    )


def id_taken(manifest_id: str) -> StoreResult:
    """Refused: the id is another firm's (the reason does not name the owner)."""
    return StoreResult(
        manifest_id,
        StoreStatus.REFUSED,
        reason=f"manifest_id: {manifest_id!r} is already taken; choose another id",
    )


def booked_change(before: Manifest, after: Manifest) -> str | None:
    """The field of an amendment that a booking's capacity accounting counts (`direction`:
    the capacity its slot was taken in; `perishable`: the reserved share), None when the
    amendment changes neither: only then may a booked manifest take it."""
    if before.direction != after.direction:
        return "direction"
    if before.perishable != after.perishable:
        return "perishable"
    return None


def booked_for_its_direction(manifest: Manifest, booking_id: str) -> StoreResult:
    """Refused: the amendment changes the direction of a manifest that holds an active
    booking, whose slot was taken in the old direction's capacity (and which the truck
    would use at the gate whatever its direction)."""
    return StoreResult(
        manifest.manifest_id,
        StoreStatus.REFUSED,
        reason=(
            f"direction: manifest {manifest.manifest_id!r} holds booking {booking_id!r}, "
            f"a slot for the other direction: cancel it (POST /v1/bookings/{booking_id}/cancel) "
            f"before changing the direction to {manifest.direction.value!r}, then book again"
        ),
    )


def booked_for_its_cargo(manifest: Manifest, booking_id: str) -> StoreResult:
    """Refused: the amendment changes whether a booked manifest's cargo is perishable; its
    place was counted as the other kind in its slot (the perishable share, or the general
    places), so the slot's counts would drift from its bookings."""
    now, was = ("perishable", "general") if manifest.perishable else ("general", "perishable")
    return StoreResult(
        manifest.manifest_id,
        StoreStatus.REFUSED,
        reason=(
            f"perishable: manifest {manifest.manifest_id!r} holds booking {booking_id!r}, "
            f"a place counted as {was} cargo in its slot: cancel it "
            f"(POST /v1/bookings/{booking_id}/cancel) before making its cargo {now} "
            f"(perishable {str(manifest.perishable).lower()}), then book again"
        ),
    )


def booked_refusal(manifest: Manifest, booking_id: str, field: str) -> StoreResult:
    """The refusal of an amendment changing `field` (of `booked_change`) of a booked
    manifest."""
    if field == "direction":
        return booked_for_its_direction(manifest, booking_id)
    return booked_for_its_cargo(manifest, booking_id)


def booked_off_window(
    before: Manifest, after: Manifest, booking_id: str, slot: tuple[datetime, datetime]
) -> StoreResult | None:
    """Refused: the amendment moves the crossing window of a manifest holding an active
    booking so that its booked slot no longer meets it (`lanes.booking.meets_window`, the
    rule the booking was made by): its truck, on time for the slot, would be matched
    `outside_window` at the gate and go to review. None when the window is unchanged or
    still meets the slot. Until 2026-12-06 such an amendment was taken."""
    if (before.window_start, before.window_end) == (after.window_start, after.window_end):
        return None
    start, end = slot
    if meets_window(start, end, after.window_start, after.window_end):
        return None
    early = after.window_start is not None and end <= after.window_start
    field = "window_start" if early else "window_end"
    opens = "open" if after.window_start is None else after.window_start.isoformat()
    closes = "open" if after.window_end is None else after.window_end.isoformat()
    return StoreResult(
        after.manifest_id,
        StoreStatus.REFUSED,
        reason=(
            f"{field}: manifest {after.manifest_id!r} holds booking {booking_id!r} for the "
            f"slot {start.isoformat()} to {end.isoformat()}, which the new window ({opens} to "
            f"{closes}) does not meet: reschedule the booking into a slot that meets both "
            f"windows first (POST /v1/bookings/{booking_id}/reschedule), or cancel it "
            f"(POST /v1/bookings/{booking_id}/cancel), then amend the window and book again"
        ),
    )
