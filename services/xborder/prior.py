"""The other side's pre-arrival notice, used here (issue 21, item 5): a truck expected from
across is a strong prior for the matcher, and its booked slot is held on this side.

Applied in the transaction that applies the notice (exactly once with it):

- **Expected candidate.** For a notice bound for one of this side's gates whose tractor
  plate has text once normalised, and unless this side already has an open manifest of its
  own for the announced tractor plate and direction (then the truck is a candidate
  already), the notice becomes an *announced manifest* (`xb-<crossing id>`, firm
  `xborder-<sender>`, source `xborder`, customs `pending`: this side's customs have not
  cleared it) with the announced
  tractor, trailer, containers, hazmat and perishable, open from the notice's event time to
  `HOLD` after it (or after its booked slot's end). It goes through `store_manifests`, so
  it is in the plate-key index the decider's matcher looks up: a read of the announced
  truck, misread within the matcher's tolerance, is attributed to it instead of being an
  unknown truck; the decision then follows this side's rules for a pending manifest.
  The matcher itself (lanes/matching.py) is not changed.
- **Booking.** A notice with a booked slot on this side's gate books that slot for the
  announced manifest through the booking use case (`services.service_layer.bookings.book`, the
  gate's booking rules at the notice's event time); a slot the rules refuse is logged with
  the reason and the notice still applies. A later notice of the crossing with another
  slot moves the booking there (`reschedule`). A slot that is not one of the gate's slots (of
  another length, or off its grid) is refused with the notice (`Prior.slot_refusal`, asked
  by the store when it checks the notice).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.booking import BookingRefused
from lanes.bookings import local_when, slot_of
from lanes.model import CustomsStatus, Gate, Manifest
from lanes.plates import normalise_plate
from services.adapters.sql_bookings import SqlBookingStore
from services.db.booking_tables import BookingRow
from services.db.bookings import ACTIVE
from services.db.manifests import store_manifests
from services.db.tables import ManifestRow
from services.service_layer.bookings import book, reschedule
from streams.xborder import PreArrivalNoticeV1

log = logging.getLogger(__name__)

SOURCE = "xborder"
# ASSUMPTION: how long after its notice (or its booked slot's end) an announced truck is
# still expected; the corridor's transit is 20 min, a truck may wait for its slot
HOLD = timedelta(hours=6)


def announced_manifest_id(crossing_id: str) -> str:
    """`xb-<crossing id>`, hashed when too long for a manifest id (64)."""
    plain = f"xb-{crossing_id}"
    if len(plain) <= 64:
        return plain
    return f"xb-{hashlib.sha256(crossing_id.encode()).hexdigest()[:40]}"


def announced_manifest(notice: PreArrivalNoticeV1) -> Manifest:
    until = max(notice.event_time, notice.booked_slot_end or notice.event_time) + HOLD
    return Manifest(
        manifest_id=announced_manifest_id(notice.crossing_id),
        firm_id=f"xborder-{notice.sender.value.lower()}",
        direction=notice.direction,
        tractor_plate=normalise_plate(notice.tractor_plate),
        trailer_plate=normalise_plate(notice.trailer_plate) if notice.trailer_plate else None,
        containers=tuple(notice.containers),
        perishable=notice.perishable,
        hazmat_class=notice.hazmat_class,
        customs_status=CustomsStatus.PENDING,
        window_start=notice.event_time,
        window_end=until,
    )


@dataclass(frozen=True, slots=True)
class Announced:
    manifest_id: str | None  # None: this side has its own manifest for the truck
    booking_id: str | None
    refused: str | None = None  # why the booked slot was not held


@dataclass(frozen=True, slots=True)
class Prior:
    """This side's gates (the booking rules of each)."""

    gates: Mapping[str, Gate]

    def slot_refusal(self, notice: PreArrivalNoticeV1) -> str | None:
        """Why the notice's booked slot is not one of its gate's slots, or None (no slot,
        or a gate this side does not run or that takes no bookings: nothing to hold). The
        slot is the one booked at this side's gate (a firm books it on this side's API):
        one of another length or off the gate's grid is the sender's error, refused naming
        the field; until 2026-12-06 a 30-minute slot was booked as Huu Nghi's 60-minute one
        from its start, in silence (an off-grid one was not held, logged)."""
        start, end = notice.booked_slot_start, notice.booked_slot_end
        gate = self.gates.get(notice.to_gate)
        if start is None or end is None or gate is None or gate.booking is None:
            return None
        rules, offset = gate.booking, gate.utc_offset
        minutes = int(rules.slot_length.total_seconds() // 60)
        slot_start, slot_end = slot_of(start, rules, offset)
        if slot_start != start:
            return (
                f"invalid: booked_slot_start {start.isoformat()}: not one of {gate.gate_id}'s "
                f"slots ({minutes} min from local midnight: {local_when(slot_start, offset)} or "
                f"{local_when(slot_end, offset)}): a notice names a slot of the gate it is "
                "bound for, as booked there"
            )
        if end != slot_end:
            length = int((end - start).total_seconds() // 60)
            return (
                f"invalid: booked_slot_end {end.isoformat()}: the slot is {length} min, "
                f"{gate.gate_id}'s slots are {minutes} min (the one from "
                f"{local_when(slot_start, offset)} ends at {local_when(slot_end, offset)}): a "
                "notice names a slot of the gate it is bound for, as booked there"
            )
        return None

    async def apply(
        self, session: AsyncSession, notice: PreArrivalNoticeV1, *, now: datetime
    ) -> Announced:
        manifest = announced_manifest(notice)
        gate = self.gates.get(notice.to_gate)
        if gate is None or not manifest.tractor_plate:
            # not a truck this side can expect: bound for a gate it does not run, or with
            # a plate that is no text once normalised (`??`): no prior (the notice applies)
            log.warning(
                "announced truck %s: no prior (to_gate %r, tractor plate %r)",
                notice.crossing_id,
                notice.to_gate,
                notice.tractor_plate,
            )
            return Announced(None, None)
        if await _own_manifest(session, manifest):
            return Announced(None, None)
        await store_manifests(session=session, manifests=[manifest], source=SOURCE, now=now)
        if notice.booked_slot_start is None or gate.booking is None:
            return Announced(manifest.manifest_id, None)
        held = (
            await session.execute(
                select(BookingRow.booking_id, BookingRow.slot_start).where(
                    BookingRow.manifest_id == manifest.manifest_id, BookingRow.status == ACTIVE
                )
            )
        ).first()
        if held is not None and held.slot_start == notice.booked_slot_start:
            return Announced(manifest.manifest_id, held.booking_id)
        try:
            async with session.begin_nested():  # a refused slot leaves nothing behind
                if held is not None:
                    # the sender's correction (a later notice of the crossing) names
                    # another slot: move the booking there (until 2026-12-06 it stayed
                    # at the first notice's slot, in silence, while the crossing
                    # recorded the new one)
                    booking = await reschedule(
                        SqlBookingStore(session),
                        firm_id=manifest.firm_id,
                        booking_id=held.booking_id,
                        gates={gate.gate_id: gate},
                        slot_start=notice.booked_slot_start,
                        now=notice.event_time,
                    )
                else:
                    booking = await book(
                        SqlBookingStore(session),
                        firm_id=manifest.firm_id,
                        manifest_id=manifest.manifest_id,
                        gate=gate,
                        slot_start=notice.booked_slot_start,
                        now=notice.event_time,
                    )
        except BookingRefused as refused:
            log.warning(
                "announced truck %s: booked slot %s not held at %s: %s%s",
                notice.crossing_id,
                notice.booked_slot_start.isoformat(),
                gate.gate_id,
                refused,
                "" if held is None else f"; its booking of {held.slot_start.isoformat()} kept",
            )
            return Announced(
                manifest.manifest_id, None if held is None else held.booking_id, str(refused)
            )
        return Announced(manifest.manifest_id, booking.booking_id)


async def _own_manifest(session: AsyncSession, manifest: Manifest) -> bool:
    """An open manifest of this side (not announced) for the plate and direction."""
    found = await session.scalar(
        select(ManifestRow.manifest_id)
        .where(
            ManifestRow.tractor_plate == manifest.tractor_plate,
            ManifestRow.direction == manifest.direction.value,
            ManifestRow.source != SOURCE,
            or_(ManifestRow.window_end.is_(None), ManifestRow.window_end >= manifest.window_start),
        )
        .limit(1)
    )
    return found is not None
