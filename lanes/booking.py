"""A crossing-slot booking, the entity: its states and the rules of each change (a slot
that may be booked, its capacity, only an active booking moves or is cancelled). Pure: the
database only stores what these return, the service layer (services/service_layer) runs
them in a transaction. Every refusal is a `BookingRefused`, with one message per kind."""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from lanes.bookings import (
    BookedSlot,
    BookingState,
    SlotCapacity,
    capacity,
    check_window,
    local_when,
    slot_of,
)
from lanes.errors import DomainError
from lanes.model import Gate
from lanes.values import Direction


class BookingRefused(DomainError):
    """An expected refusal: `kind` (manifest_not_found, booking_not_found, window,
    already_booked, slot_full, not_active, no_bookings, no_waiting_area, version_changed),
    the field at fault and why; `state`: for not_active, the state the booking is in (the
    driver's page words its refusal by it)."""

    def __init__(
        self, kind: str, field: str, detail: str, *, state: BookingState | None = None
    ) -> None:
        super().__init__(f"{field}: {detail}")
        self.kind, self.field, self.detail, self.state = kind, field, detail, state


def manifest_not_found(manifest_id: str) -> BookingRefused:
    """Another firm's manifest reads as missing: ids reveal nothing."""
    return BookingRefused("manifest_not_found", "manifest_id", f"no manifest {manifest_id!r}")


def booking_not_found(booking_id: str) -> BookingRefused:
    """Another firm's booking reads as missing."""
    return BookingRefused("booking_not_found", "booking_id", f"no booking {booking_id!r}")


def already_booked(manifest_id: str, existing: str | None) -> BookingRefused:
    return BookingRefused(
        "already_booked",
        "manifest_id",
        f"manifest {manifest_id!r} already has an active booking ({existing}); "
        "reschedule or cancel it",
    )


def meets_window(
    slot_start: datetime,
    slot_end: datetime,
    window_start: datetime | None,
    window_end: datetime | None,
) -> bool:
    """Whether a slot [slot_start, slot_end) meets a crossing window [window_start,
    window_end] (a bound None: open): it does not end by the time the window opens, nor
    start once it has closed, so a truck on time for the slot can be in its window."""
    if window_start is not None and slot_end <= window_start:
        return False
    return window_end is None or slot_start < window_end


@dataclass(frozen=True, slots=True)
class ManifestTerms:
    """What a booking takes from its manifest: the direction whose capacity its slot is
    counted in, whether its place is of the perishable share, and the crossing window (a
    missing bound: open on that side) its slot must lie in."""

    direction: Direction
    perishable: bool
    window_start: datetime | None = None
    window_end: datetime | None = None

    def check_slot(
        self, manifest_id: str, gate: Gate, slot_start: datetime, slot_end: datetime
    ) -> None:
        """Refuses (BookingRefused, kind window, field slot_start) a slot wholly outside
        the manifest's crossing window: one that ends by the time the window opens, or
        starts when it has closed. The matcher judges a truck against that window
        (`lanes.matching.in_window`): a truck arriving on time for such a slot is matched
        `outside_window` and goes to review, slot or not, so such a slot is never what the
        firm means to book. Until 2026-12-06 it was booked (201). A slot across a bound is
        taken: the truck can arrive on time for both (an announced truck's window opens
        when its notice was sent, within its booked slot: `services.xborder.prior`)."""
        if meets_window(slot_start, slot_end, self.window_start, self.window_end):
            return
        offset = gate.utc_offset
        opens = "open" if self.window_start is None else local_when(self.window_start, offset)
        closes = "open" if self.window_end is None else local_when(self.window_end, offset)
        raise BookingRefused(
            "window",
            "slot_start",
            f"the slot {local_when(slot_start, offset)} to {local_when(slot_end, offset)} "
            f"lies outside manifest {manifest_id!r}'s crossing window ({opens} to "
            f"{closes}): its truck, on time for the slot, would be outside its window at the "
            "gate and sent to review; choose a slot within the window, or amend the "
            "manifest's window_start/window_end first",
        )


def bookable_slot_end(gate: Gate, slot_start: datetime, now: datetime) -> datetime:
    """The end of the slot starting at `slot_start` if the gate takes bookings and the slot
    may be booked at `now`; else BookingRefused (no_bookings, or window with every reason)."""
    if gate.booking is None:
        raise BookingRefused("no_bookings", "gate", f"gate {gate.gate_id!r} takes no bookings")
    problems = check_window(slot_start, rules=gate.booking, utc_offset=gate.utc_offset, now=now)
    if problems:
        raise BookingRefused("window", problems[0].field, "; ".join(p.reason for p in problems))
    return slot_of(slot_start, gate.booking, gate.utc_offset)[1]


@dataclass(frozen=True, slots=True)
class Booking:
    booking_id: str
    firm_id: str
    manifest_id: str
    gate_id: str
    direction: Direction
    slot_start: datetime
    slot_end: datetime
    perishable: bool
    status: BookingState
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def new(
        cls,
        *,
        booking_id: str,
        firm_id: str,
        manifest_id: str,
        gate: Gate,
        direction: Direction,
        perishable: bool,
        slot_start: datetime,
        now: datetime,
    ) -> Booking:
        """An active booking of the slot starting at `slot_start` (stored in UTC), or
        BookingRefused when that slot may not be booked at `now`."""
        slot_end = bookable_slot_end(gate, slot_start, now)
        return cls(
            booking_id=booking_id,
            firm_id=firm_id,
            manifest_id=manifest_id,
            gate_id=gate.gate_id,
            direction=direction,
            slot_start=slot_start.astimezone(UTC),
            slot_end=slot_end,
            perishable=perishable,
            status=BookingState.ACTIVE,
            created_at=now,
            updated_at=now,
            version=1,
        )

    def capacity_in(self, gate: Gate, slot_start: datetime) -> SlotCapacity:
        """The capacity this booking's direction has in the slot at `slot_start`."""
        assert gate.booking is not None
        return capacity(slot_start, self.direction, gate.booking, gate.utc_offset)

    def slot_full(self, gate: Gate, slot_start: datetime) -> BookingRefused:
        """The refusal when the slot at `slot_start` has no place left for this booking."""
        cap = self.capacity_in(gate, slot_start)
        part = (
            f"capacity {cap.total}"
            if self.perishable
            else f"capacity {cap.total}, of which {cap.reserved} kept for perishable cargo"
        )
        return BookingRefused(
            "slot_full",
            "slot_start",
            f"slot full: the {self.direction.value} slot at "
            f"{local_when(slot_start, gate.utc_offset)} "
            f"({part}) has no room left for this manifest; choose another slot",
        )

    def cancelled(self, now: datetime) -> Booking | None:
        """The booking cancelled at `now`; None when it already is (nothing to change);
        BookingRefused when it is no longer active (used, lost, not shown)."""
        if self.status is BookingState.CANCELLED:
            return None
        self._require_active("cancelled")
        return replace(
            self, status=BookingState.CANCELLED, updated_at=now, version=self.version + 1
        )

    def require_version(self, versions: frozenset[int] | None) -> None:
        """Refuses a change (BookingRefused `version_changed`) unless the booking is at one
        of `versions`, the ones the client read it at (None: any). Called only when the
        change would change something: a retry of a change already made is answered as
        done (RFC 9110 13.1.1)."""
        if versions is None or self.version in versions:
            return
        told = (
            "version " + ", ".join(str(v) for v in sorted(versions))
            if versions
            else "no version of this booking"
        )
        raise BookingRefused(
            "version_changed",
            "version",
            f"the booking is at version {self.version}; the request names {told}: it changed "
            "since it was read, or the tag is another's; read it again (GET) and decide on "
            "what it is now",
        )

    def rescheduled(self, gate: Gate, slot_start: datetime, now: datetime) -> Booking | None:
        """The booking moved to the slot at `slot_start`; None when it is that slot already;
        BookingRefused when it is not active or the slot may not be booked."""
        self._require_active("rescheduled")
        slot_end = bookable_slot_end(gate, slot_start, now)
        slot_start = slot_start.astimezone(UTC)
        if slot_start == self.slot_start:
            return None
        return replace(
            self,
            slot_start=slot_start,
            slot_end=slot_end,
            updated_at=now,
            version=self.version + 1,
        )

    def waits_in_area(self, gate: Gate) -> bool:
        """Whether the gate has a waiting area for the booking's direction: its truck
        waits there and is called (its driver checks in); else it drives to the gate
        for its slot (the Chinese side's Youyiguan file has no area at all)."""
        return gate.waiting_area(self.direction) is not None

    def check_in(self, gate: Gate) -> None:
        """Refuses a check-in at the waiting area (BookingRefused) unless the booking is
        active and the gate has a waiting area for its direction; a check-in changes
        nothing of the booking (its truck waits in the area: call-forward's queue)."""
        self._require_active("checked in")
        if not self.waits_in_area(gate):
            raise BookingRefused(
                "no_waiting_area",
                "booking_id",
                f"gate {gate.gate_id!r} has no waiting area for {self.direction.value}: "
                f"its trucks drive to the gate, there is nothing to check in to",
            )

    def lost_at(self, at: datetime, grace: timedelta) -> bool:
        """A truck arriving at `at` has lost the slot: later than `grace` after its end."""
        return at >= self.slot_end + grace

    def no_show(self, at: datetime) -> Booking:
        """No truck came and the slot is over (the place is not released)."""
        return self._ends(BookingState.NO_SHOW, at)

    def lost_late(self, at: datetime) -> Booking:
        """The truck came after the grace period: it is a walk-in and must rebook."""
        return self._ends(BookingState.LOST_LATE, at)

    def used(self, at: datetime) -> Booking:
        """The truck crossed on this booking."""
        return self._ends(BookingState.USED, at)

    def _ends(self, state: BookingState, at: datetime) -> Booking:
        self._require_active(f"marked {state.value}")
        return replace(self, status=state, updated_at=at, version=self.version + 1)

    def _require_active(self, what: str) -> None:
        if self.status is not BookingState.ACTIVE:
            raise BookingRefused(
                "not_active",
                "booking_id",
                f"booking {self.booking_id!r} is {self.status.value}: only an active booking "
                f"can be {what}",
                state=self.status,
            )


def slots_at_arrival(active: Iterable[Booking], lost: Set[str]) -> dict[str, BookedSlot]:
    """Each manifest's booked slot as an arriving truck finds it: the bookings in `lost`
    (their ids) as lost late, the others active."""
    return {
        b.manifest_id: BookedSlot(
            b.slot_start,
            b.slot_end,
            BookingState.LOST_LATE if b.booking_id in lost else BookingState.ACTIVE,
        )
        for b in active
    }
