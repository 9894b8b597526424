"""The booking use cases, each written once: book a slot, reschedule it, cancel it, check
its truck in at the gate's waiting area.

`book`, `reschedule` and `cancel` run inside a transaction the caller holds (a booking
store): the HTTP handlers below, the cross-border intake (services/xborder/prior.py) and
the tests call them. The handlers (`book_slot`, `reschedule_slot`, `cancel_slot`) take a
command, open the unit of work, keep the HTTP request's idempotency key, commit and wake
the publisher. The rules are the domain's (`lanes.booking.Booking`); the stores only keep
what it returns. Refusals are `BookingRefused`, raised once the transaction is rolled back."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from lanes.booking import (
    Booking,
    BookingRefused,
    already_booked,
    booking_not_found,
    manifest_not_found,
)
from lanes.model import Gate
from services.ports import (
    BookingStore,
    BookingUnitOfWork,
    EarlierRequest,
    EventPublisher,
)

# A check-in this soon after the last one records nothing more
CHECK_IN_REPEAT = timedelta(minutes=5)

# --- commands --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookSlot:
    """Book the firm's manifest into the slot starting at `slot_start`. With an idempotency
    key, a retry with the same `request_hash` gets the first answer again."""

    firm_id: str
    manifest_id: str
    gate_id: str
    slot_start: datetime
    idempotency_key: str | None = None
    request_hash: str = ""
    driver_phone: str | None = None  # E.164: the call's SMS goes there


@dataclass(frozen=True, slots=True)
class RescheduleSlot:
    firm_id: str
    booking_id: str
    slot_start: datetime
    versions: frozenset[int] | None = None  # the versions it was read at (If-Match); None: any


@dataclass(frozen=True, slots=True)
class CancelSlot:
    firm_id: str
    booking_id: str
    versions: frozenset[int] | None = None  # as RescheduleSlot's


@dataclass(frozen=True, slots=True)
class CheckIn:
    """The booking's truck is in the gate's waiting area (issue 23): call-forward queues it
    there, as it does a truck read at the area's camera. `firm_id` None: from the driver's
    page, whose unguessable link is the driver's credential for this one booking."""

    firm_id: str | None
    booking_id: str


T = TypeVar("T")

# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Booked:
    booking: Booking
    answer: dict[str, Any]  # what `present` made of it, kept under the idempotency key


@dataclass(frozen=True, slots=True)
class CheckInDone:
    """`recorded` False: a check-in less than CHECK_IN_REPEAT earlier stands (`at`, its
    time), and this one added nothing; the answer says so rather than a bare yes."""

    booking: Booking
    recorded: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class Replayed:
    """A retry: the earlier request's answer, unchanged."""

    earlier: EarlierRequest


class IdempotencyKeyReused(Exception):
    """The idempotency key was used with another request (or its answer was not kept)."""


# --- in the caller's transaction ---------------------------------------------------------------


async def book(
    store: BookingStore,
    *,
    firm_id: str,
    manifest_id: str,
    gate: Gate,
    slot_start: datetime,
    now: datetime,
    booking_id: str | None = None,
) -> Booking:
    """Book the firm's manifest (direction and cargo from it) into the slot at
    `slot_start`; BookingRefused says why not."""
    terms = await store.manifest_cargo(firm_id, manifest_id)
    if terms is None:
        raise manifest_not_found(manifest_id)
    booking = Booking.new(
        booking_id=booking_id or f"bk_{uuid.uuid4().hex}",
        firm_id=firm_id,
        manifest_id=manifest_id,
        gate=gate,
        direction=terms.direction,
        perishable=terms.perishable,
        slot_start=slot_start,
        now=now,
    )
    terms.check_slot(manifest_id, gate, booking.slot_start, booking.slot_end)
    if not await store.add(booking):
        raise already_booked(manifest_id, await store.active_booking_id(manifest_id))
    await _take(store, booking, gate, booking.slot_start)
    await store.record_event(booking, "booking.created")
    return booking


async def reschedule(
    store: BookingStore,
    *,
    firm_id: str,
    booking_id: str,
    gates: Mapping[str, Gate],
    slot_start: datetime,
    now: datetime,
    versions: frozenset[int] | None = None,
) -> Booking:
    """Move an active booking to another slot: take the new place, release the old, in one
    transaction (slot rows in one order: two crossing reschedules cannot deadlock);
    `versions`: see `Booking.require_version`."""
    current = await store.get(firm_id, booking_id, for_update=True)
    gate = None if current is None else gates.get(current.gate_id)
    if current is None or gate is None:
        raise booking_not_found(booking_id)
    moved = current.rescheduled(gate, slot_start, now)
    if moved is None:
        return current
    current.require_version(versions)
    terms = await store.manifest_cargo(firm_id, current.manifest_id)
    if terms is not None:
        terms.check_slot(current.manifest_id, gate, moved.slot_start, moved.slot_end)
    if moved.slot_start < current.slot_start:
        await _take(store, current, gate, moved.slot_start)
        await store.release_place(current)
    else:
        await store.release_place(current)
        await _take(store, current, gate, moved.slot_start)
    await store.save(current, moved)
    await store.record_event(
        moved, "booking.rescheduled", previous_slot_start=current.slot_start.isoformat()
    )
    return moved


async def cancel(
    store: BookingStore,
    *,
    firm_id: str,
    booking_id: str,
    now: datetime,
    versions: frozenset[int] | None = None,
) -> Booking:
    """Cancel and release the place; an already cancelled booking is returned as it is;
    `versions`: see `Booking.require_version`."""
    current = await store.get(firm_id, booking_id, for_update=True)
    if current is None:
        raise booking_not_found(booking_id)
    cancelled = current.cancelled(now)
    if cancelled is None:
        return current
    current.require_version(versions)
    await store.release_place(current)
    await store.save(current, cancelled)
    await store.record_event(cancelled, "booking.cancelled")
    return cancelled


async def check_in(
    store: BookingStore,
    *,
    firm_id: str | None,
    booking_id: str,
    gates: Mapping[str, Gate],
    now: datetime,
) -> CheckInDone:
    """Record the check-in (`booking.checked_in`, at `now`: the event's time, which the
    call-forward worker queues the truck at); the booking itself is unchanged. A check-in
    within CHECK_IN_REPEAT of the last one records nothing more (a double tap, a retry,
    a page hammered: one event); a later one does (a truck that lost its place may check
    in again), and the worker queues a truck once. `firm_id` None: the booking's own firm
    (the driver's page)."""
    firm_id = firm_id or await store.firm_of(booking_id)
    current = None if firm_id is None else await store.get(firm_id, booking_id, for_update=True)
    gate = None if current is None else gates.get(current.gate_id)
    if current is None or gate is None:
        raise booking_not_found(booking_id)
    current.check_in(gate)
    last = await store.last_check_in(booking_id)
    if last is not None and now - CHECK_IN_REPEAT < last <= now:
        return CheckInDone(current, recorded=False, at=last)
    await store.record_event(current, "booking.checked_in", occurred_at=now)
    return CheckInDone(current, recorded=True, at=now)


def _local_slot(booking: Booking, gate: Gate) -> tuple[datetime, datetime]:
    """The booking's slot in the gate's local time (its gate file's UTC offset)."""
    local = timezone(gate.utc_offset)
    return booking.slot_start.astimezone(local), booking.slot_end.astimezone(local)


async def _take(store: BookingStore, booking: Booking, gate: Gate, slot_start: datetime) -> None:
    if not await store.take_place(booking, slot_start, booking.capacity_in(gate, slot_start)):
        raise booking.slot_full(gate, slot_start)


# --- handlers: one transaction each ----------------------------------------------------------


async def book_slot(
    cmd: BookSlot,
    *,
    uow: BookingUnitOfWork,
    publisher: EventPublisher,
    gates: Mapping[str, Gate],
    now: datetime,
    present: Callable[[Booking], dict[str, Any]],
) -> Booked | Replayed:
    """Book, with the driver's page made and the answer (`present`) kept under the
    idempotency key in the same transaction. A retry gets `Replayed`; a key reused with
    another request raises IdempotencyKeyReused."""
    async with uow:
        if cmd.idempotency_key is not None:
            earlier = await uow.idempotency.claim(
                cmd.firm_id, cmd.idempotency_key, cmd.request_hash, now
            )
            if earlier is not None:
                await uow.rollback()
                if earlier.request_hash != cmd.request_hash or earlier.response is None:
                    raise IdempotencyKeyReused(cmd.idempotency_key)
                return Replayed(earlier)
        booking = await _refused_rolls_back(
            uow,
            book(
                uow.bookings,
                firm_id=cmd.firm_id,
                manifest_id=cmd.manifest_id,
                gate=gates[cmd.gate_id],
                slot_start=cmd.slot_start,
                now=now,
            ),
        )
        answer = present(booking)
        # the driver's page exists from the booking on ("booked"; the call-forward worker
        # moves it on when the truck reaches the waiting area; at a gate with none for the
        # booking's direction, as the gate file says when it is read, it says to drive to
        # the gate)
        gate = gates[cmd.gate_id]
        await uow.driver_pages.booked(
            booking.booking_id, now, phone=cmd.driver_phone, slot=_local_slot(booking, gate)
        )
        if cmd.idempotency_key is not None:
            await uow.idempotency.answer(
                cmd.firm_id, cmd.idempotency_key, booking.booking_id, 201, answer
            )
        await uow.commit()
    publisher.wake()
    return Booked(booking, answer)


async def reschedule_slot(
    cmd: RescheduleSlot,
    *,
    uow: BookingUnitOfWork,
    publisher: EventPublisher,
    gates: Mapping[str, Gate],
    now: datetime,
) -> Booking:
    async def step(store: BookingStore) -> Booking:
        moved = await reschedule(
            store,
            firm_id=cmd.firm_id,
            booking_id=cmd.booking_id,
            gates=gates,
            slot_start=cmd.slot_start,
            now=now,
            versions=cmd.versions,
        )
        # a page still "booked" shows the new slot
        await uow.driver_pages.moved(
            moved.booking_id, _local_slot(moved, gates[moved.gate_id]), now
        )
        return moved

    return await _changing(uow, publisher, step)


async def cancel_slot(
    cmd: CancelSlot, *, uow: BookingUnitOfWork, publisher: EventPublisher, now: datetime
) -> Booking:
    async def step(store: BookingStore) -> Booking:
        cancelled = await cancel(
            store, firm_id=cmd.firm_id, booking_id=cmd.booking_id, now=now, versions=cmd.versions
        )
        # the driver's page stops telling the driver to drive to the waiting area
        await uow.driver_pages.cancelled(cancelled.booking_id, now)
        return cancelled

    return await _changing(uow, publisher, step)


async def check_in_slot(
    cmd: CheckIn,
    *,
    uow: BookingUnitOfWork,
    publisher: EventPublisher,
    gates: Mapping[str, Gate],
    now: datetime,
) -> CheckInDone:
    return await _changing(
        uow,
        publisher,
        lambda store: check_in(
            store, firm_id=cmd.firm_id, booking_id=cmd.booking_id, gates=gates, now=now
        ),
    )


async def _changing(
    uow: BookingUnitOfWork,
    publisher: EventPublisher,
    step: Callable[[BookingStore], Awaitable[T]],
) -> T:
    """One transaction around `step` on the unit of work's booking store: committed, then
    the publisher woken; a refusal rolls it back and is re-raised."""
    async with uow:
        booking = await _refused_rolls_back(uow, step(uow.bookings))
        await uow.commit()
    publisher.wake()
    return booking


async def _refused_rolls_back(uow: BookingUnitOfWork, step: Awaitable[T]) -> T:
    """Await `step`; on a refusal, undo whatever the transaction had done, then re-raise."""
    try:
        booking = await step
    except BookingRefused:
        await uow.rollback()
        raise
    return booking
