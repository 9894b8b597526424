"""Crossing slots and their rules, pure: slot boundaries, capacity, which windows a firm may
book, and what a truck's arrival makes of its booking. Times are arguments, never the clock;
slots are aligned on the gate's local midnight (`Gate.utc_offset`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple

from lanes.values import BookingStatus, DailyHours, Direction, gate_clock

BOOKABLE_HOURS = DailyHours(((time(6), time(22)),))
# GoSwift (DOMAIN.md): more than 1 h late loses the reservation.
BOOKING_GRACE = timedelta(hours=1)


class BookingState(StrEnum):
    """A booking's life: active until used, cancelled, lost by a late truck or not used."""

    ACTIVE = "active"
    CANCELLED = "cancelled"
    LOST_LATE = "lost_late"  # the truck came more than the grace period late
    NO_SHOW = "no_show"  # the slot ended more than the grace period ago, no truck
    USED = "used"


class BookedSlot(NamedTuple):
    """A manifest's booked slot as a truck's arrival finds it."""

    slot_start: datetime
    slot_end: datetime
    status: BookingState  # ACTIVE, or LOST_LATE when the arrival came after the grace


@dataclass(frozen=True, slots=True)
class CapacityOverride:
    """Capacity per slot for the slots starting inside `hours` (local); None: the default."""

    hours: DailyHours
    export: int | None = None
    import_: int | None = None


@dataclass(frozen=True, slots=True)
class BookingRules:
    slot_length: timedelta = timedelta(minutes=60)
    export_per_slot: int = 60
    import_per_slot: int = 40
    overrides: tuple[CapacityOverride, ...] = ()
    perishable_share: float = 0.3  # of each slot, only perishable cargo may take
    horizon: timedelta = timedelta(days=7)
    cutoff: timedelta = timedelta(minutes=30)  # bookings close this long before the start
    grace: timedelta = timedelta(minutes=60)  # later than this after the end loses the slot
    hours: DailyHours = field(default=BOOKABLE_HOURS)  # local windows slots may lie in


@dataclass(frozen=True, slots=True)
class SlotCapacity:
    total: int
    reserved: int  # of `total`, for perishable cargo only

    @property
    def general(self) -> int:
        """What non-perishable cargo may take."""
        return self.total - self.reserved

    def has_room(self, booked: int, booked_perishable: int, *, perishable: bool) -> bool:
        """Whether one more booking fits in a slot holding `booked` (of which
        `booked_perishable` for perishable cargo): a place of the total, and for other cargo
        one of the general share, the reserved one kept for perishables. The one rule of a
        slot's room: the in-memory store and the simulated day ask it; the database's
        upsert (`services/db/bookings.take_place`) writes it as its WHERE clause."""
        if booked >= self.total:
            return False
        return perishable or booked - booked_perishable < self.general


@dataclass(frozen=True, slots=True)
class SlotProblem:
    """Why a window cannot be booked: the field at fault and a reason a person can act on."""

    field: str
    reason: str


def _local(at: datetime, utc_offset: timedelta) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None) + utc_offset


def local_when(at: datetime, utc_offset: timedelta) -> str:
    """`at` as a firm's person reads it in a refusal: the gate's local date and time with
    its offset, `2026-11-24 08:00 local (UTC+07:00)` (the request's own fields keep ISO)."""
    return gate_clock(at, utc_offset, zone="local")


def slot_of(at: datetime, rules: BookingRules, utc_offset: timedelta) -> tuple[datetime, datetime]:
    """The slot [start, end) holding `at` (UTC), slots counted from local midnight."""
    local = _local(at, utc_offset)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    n = (local - midnight) // rules.slot_length
    start = midnight + n * rules.slot_length - utc_offset
    start = start.replace(tzinfo=UTC)
    return start, start + rules.slot_length


def is_aligned(at: datetime, rules: BookingRules, utc_offset: timedelta) -> bool:
    return slot_of(at, rules, utc_offset)[0] == at


def capacity(
    slot_start: datetime, direction: Direction, rules: BookingRules, utc_offset: timedelta
) -> SlotCapacity:
    """The slot's capacity for one direction: the first override whose hours hold the slot's
    start, else the default; the reserved share rounded down."""
    total = rules.export_per_slot if direction is Direction.EXPORT else rules.import_per_slot
    for override in rules.overrides:
        value = override.export if direction is Direction.EXPORT else override.import_
        if value is not None and override.hours.contains(slot_start, utc_offset):
            total = value
            break
    reserved = int(total * rules.perishable_share + 1e-9)
    return SlotCapacity(total=total, reserved=min(reserved, total))


def is_bookable_hour(slot_start: datetime, rules: BookingRules, utc_offset: timedelta) -> bool:
    """The whole slot lies inside the bookable hours."""
    last = slot_start + rules.slot_length - timedelta(microseconds=1)
    return rules.hours.contains(slot_start, utc_offset) and rules.hours.contains(last, utc_offset)


def check_window(
    slot_start: datetime,
    *,
    rules: BookingRules,
    utc_offset: timedelta,
    now: datetime,
    field_name: str = "slot_start",
) -> list[SlotProblem]:
    """Every reason `slot_start` cannot be booked at `now`; empty when it can."""
    if slot_start.tzinfo is None:
        return [SlotProblem(field_name, "needs a UTC offset, e.g. 2026-11-24T08:00:00+07:00")]
    problems: list[SlotProblem] = []
    local = _local(slot_start, utc_offset)
    minutes = int(rules.slot_length.total_seconds() // 60)
    if not is_aligned(slot_start, rules, utc_offset):
        start = slot_of(slot_start, rules, utc_offset)[0]
        # a fraction of a second is said: "10:00:00 local is not a slot boundary" read as
        # if the time named were one
        said = f"{local:%H:%M:%S}"
        if local.microsecond:
            said += f".{local.microsecond:06d}".rstrip("0")
        fraction = " (a slot starts on the second: no fraction of a second)"
        problems.append(
            SlotProblem(
                field_name,
                f"{said} local is not a slot boundary: slots are {minutes} min "
                f"from 00:00 local (the slot holding it starts at "
                f"{local_when(start, utc_offset)}){fraction if local.microsecond else ''}",
            )
        )
    elif not is_bookable_hour(slot_start, rules, utc_offset):
        windows = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in rules.hours.windows)
        problems.append(
            SlotProblem(
                field_name,
                f"the slot at {local:%H:%M} local is outside the bookable hours ({windows} local)",
            )
        )
    closes = slot_start - rules.cutoff
    if slot_start <= now:
        problems.append(
            SlotProblem(
                field_name, f"the slot starts in the past ({local_when(slot_start, utc_offset)})"
            )
        )
    elif now >= closes:
        cutoff_min = int(rules.cutoff.total_seconds() // 60)
        problems.append(
            SlotProblem(
                field_name,
                f"past the cut-off: bookings close {cutoff_min} min before the slot starts "
                f"(closed at {local_when(closes, utc_offset)})",
            )
        )
    elif slot_start > now + rules.horizon:
        problems.append(
            SlotProblem(
                field_name,
                f"beyond the booking horizon of {rules.horizon.days} days "
                f"(book up to {local_when(now + rules.horizon, utc_offset)})",
            )
        )
    return problems


def slots_between(
    start: datetime, end: datetime, *, rules: BookingRules, utc_offset: timedelta
) -> list[tuple[datetime, datetime]]:
    """The bookable-hour slots starting in [start, end), in order."""
    first, _ = slot_of(start, rules, utc_offset)
    if first < start:
        first += rules.slot_length
    out = []
    at = first
    while at < end:
        if is_bookable_hour(at, rules, utc_offset):
            out.append((at, at + rules.slot_length))
        at += rules.slot_length
    return out


def arrival_status(
    slot_start: datetime | None,
    slot_end: datetime | None,
    arrived_at: datetime,
    *,
    rules: BookingRules,
) -> BookingStatus:
    """On time, early, late within the grace period, or a walk-in (no booking, or later)."""
    return booking_status(slot_start, slot_end, arrived_at, grace=rules.grace)


def is_lost(slot_end: datetime, at: datetime, *, rules: BookingRules) -> bool:
    """A truck at `at`, or none by `at`, has lost its slot: the grace period is over."""
    return at >= slot_end + rules.grace


def booking_status(
    slot_start: datetime | None,
    slot_end: datetime | None,
    arrived_at: datetime,
    *,
    grace: timedelta = BOOKING_GRACE,
) -> BookingStatus:
    """On time inside [start, end); early before it; late up to `grace` after its end keeps
    the slot; later than that, or no slot, is a walk-in."""
    if slot_start is None or slot_end is None:
        return BookingStatus.WALK_IN
    if arrived_at < slot_start:
        return BookingStatus.EARLY
    if arrived_at < slot_end:
        return BookingStatus.ON_TIME
    if arrived_at < slot_end + grace:
        return BookingStatus.LATE
    return BookingStatus.WALK_IN
