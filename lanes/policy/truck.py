"""From a manifest and a sighting to the Truck the policy weighs: customs channel, cargo
classes, booking status against a slot."""

from __future__ import annotations

from datetime import datetime

from lanes.board import Truck
from lanes.channels import channel_of
from lanes.model import BookingStatus, CargoClass, CustomsChannel, CustomsStatus, Manifest


def customs_channel(manifest: Manifest) -> CustomsChannel | None:
    """The channel customs gave; else cleared -> green, inspect -> red; pending -> None."""
    return None if manifest.customs_status is CustomsStatus.PENDING else channel_of(manifest)


def cargo_of(manifest: Manifest) -> frozenset[CargoClass]:
    """Container if it carries any, perishable, hazmat; general when none of these."""
    return cargo_classes(
        containers=len(manifest.containers),
        perishable=manifest.perishable,
        hazmat_class=manifest.hazmat_class,
    )


def cargo_classes(
    *, containers: int, perishable: bool, hazmat_class: str | None
) -> frozenset[CargoClass]:
    """`cargo_of` from the manifest's fields (a stored row has no Manifest)."""
    found = set()
    if containers:
        found.add(CargoClass.CONTAINER)
    if perishable:
        found.add(CargoClass.PERISHABLE)
    if hazmat_class is not None:
        found.add(CargoClass.HAZMAT)
    return frozenset(found or {CargoClass.GENERAL})


def truck_from_manifest(
    visit_id: str,
    manifest: Manifest,
    *,
    arrived_at: datetime,
    booking: BookingStatus = BookingStatus.WALK_IN,
) -> Truck | None:
    """The truck the policy weighs; None while customs is pending (not cleared)."""
    channel = customs_channel(manifest)
    if channel is None:
        return None
    return Truck(
        visit_id=visit_id,
        direction=manifest.direction,
        arrived_at=arrived_at,
        channel=channel,
        cargo=cargo_of(manifest),
        containers=len(manifest.containers),
        booking=booking,
        manifest_id=manifest.manifest_id,
    )


def describe(truck: Truck) -> str:
    """`green, 1 container, perishable, on-time booking` (for reasons)."""
    parts = [f"{truck.channel}"]
    if truck.containers:
        parts.append(f"{truck.containers} container{'s' if truck.containers != 1 else ''}")
    parts += [
        str(c) for c in sorted(truck.cargo) if c not in (CargoClass.CONTAINER, CargoClass.GENERAL)
    ]
    parts.append(
        str(truck.booking).replace("_", "-")
        + ("" if truck.booking is BookingStatus.WALK_IN else " booking")
    )
    return ", ".join(parts)
