"""The booking ports in memory: for the unit tests of the use cases (no database, no
broker), and for any run that needs no storage. A unit of work works on a copy of the
committed state; `commit` keeps the copy, leaving without it drops it."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from lanes.booking import Booking, ManifestTerms
from lanes.bookings import BookingState, SlotCapacity
from lanes.values import Direction
from services.ports import EarlierRequest

SlotKey = tuple[str, Direction, datetime]


@dataclass
class BookingData:
    """What the in-memory stores hold (the tables, as plain containers)."""

    manifests: dict[tuple[str, str], ManifestTerms] = field(default_factory=dict)
    bookings: dict[str, Booking] = field(default_factory=dict)
    places: dict[SlotKey, list[int]] = field(default_factory=dict)  # [booked, perishable]
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    keys: dict[tuple[str, str], EarlierRequest] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)  # booking id -> the driver's mobile
    # booking id -> the slot its page shows (gate local time)
    page_slots: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)


class MemoryBookingStore:
    def __init__(self, data: BookingData) -> None:
        self.data = data

    async def manifest_cargo(self, firm_id: str, manifest_id: str) -> ManifestTerms | None:
        return self.data.manifests.get((firm_id, manifest_id))

    async def add(self, booking: Booking) -> bool:
        if await self.active_booking_id(booking.manifest_id) is not None:
            return False
        self.data.bookings[booking.booking_id] = booking
        return True

    async def active_booking_id(self, manifest_id: str) -> str | None:
        return next(
            (
                b.booking_id
                for b in self.data.bookings.values()
                if b.manifest_id == manifest_id and b.status is BookingState.ACTIVE
            ),
            None,
        )

    async def get(
        self, firm_id: str, booking_id: str, *, for_update: bool = False
    ) -> Booking | None:
        found = self.data.bookings.get(booking_id)
        return found if found is not None and found.firm_id == firm_id else None

    async def last_check_in(self, booking_id: str) -> datetime | None:
        times = [
            extra["occurred_at"]
            for type_, booked, extra in self.data.events
            if booked == booking_id and type_ == "booking.checked_in"
        ]
        return max(times, default=None)

    async def firm_of(self, booking_id: str) -> str | None:
        found = self.data.bookings.get(booking_id)
        return None if found is None else found.firm_id

    async def take_place(self, booking: Booking, slot_start: datetime, cap: SlotCapacity) -> bool:
        used = self.data.places.setdefault((booking.gate_id, booking.direction, slot_start), [0, 0])
        booked, perishable = used
        if not cap.has_room(booked, perishable, perishable=booking.perishable):
            return False
        used[0] += 1
        used[1] += int(booking.perishable)
        return True

    async def release_place(self, booking: Booking) -> None:
        used = self.data.places[(booking.gate_id, booking.direction, booking.slot_start)]
        used[0] -= 1
        used[1] -= int(booking.perishable)

    async def save(self, before: Booking, after: Booking) -> None:
        stored = self.data.bookings[before.booking_id]
        if stored.version != before.version:
            raise RuntimeError(f"booking {before.booking_id} changed concurrently")
        self.data.bookings[after.booking_id] = replace(after, version=before.version + 1)

    async def record_event(
        self, booking: Booking, type_: str, *, occurred_at: datetime | None = None, **extra: Any
    ) -> None:
        at = {} if occurred_at is None else {"occurred_at": occurred_at}
        self.data.events.append((type_, booking.booking_id, dict(extra) | at))


class MemoryIdempotencyKeys:
    def __init__(self, data: BookingData) -> None:
        self.data = data

    async def claim(
        self, firm_id: str, key: str, request_hash: str, now: datetime
    ) -> EarlierRequest | None:
        earlier = self.data.keys.get((firm_id, key))
        if earlier is None:
            self.data.keys[(firm_id, key)] = EarlierRequest(request_hash, None, 0, None)
        return earlier

    async def answer(
        self, firm_id: str, key: str, booking_id: str, status_code: int, response: Mapping[str, Any]
    ) -> None:
        claimed = self.data.keys[(firm_id, key)]
        self.data.keys[(firm_id, key)] = replace(
            claimed, booking_id=booking_id, status_code=status_code, response=dict(response)
        )


class MemoryDriverPages:
    def __init__(self, data: BookingData) -> None:
        self.data = data

    async def booked(
        self,
        booking_id: str,
        now: datetime,
        *,
        phone: str | None = None,
        slot: tuple[datetime, datetime] | None = None,
    ) -> None:
        self.data.pages[booking_id] = "booked"
        if phone is not None:
            self.data.phones[booking_id] = phone
        if slot is not None:
            self.data.page_slots[booking_id] = slot

    async def moved(self, booking_id: str, slot: tuple[datetime, datetime], now: datetime) -> None:
        if self.data.pages.get(booking_id) == "booked":
            self.data.page_slots[booking_id] = slot

    async def cancelled(self, booking_id: str, now: datetime) -> None:
        if self.data.pages.get(booking_id) == "booked":
            self.data.pages[booking_id] = "cancelled"


class MemoryBookingUnitOfWork:
    bookings: MemoryBookingStore
    idempotency: MemoryIdempotencyKeys
    driver_pages: MemoryDriverPages

    def __init__(self, data: BookingData | None = None) -> None:
        self.committed = data or BookingData()
        self.commits = 0

    async def __aenter__(self) -> Self:
        self._begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._begin()  # whatever was not committed is dropped

    async def commit(self) -> None:
        self.committed = self.working
        self.commits += 1
        self._begin()

    async def rollback(self) -> None:
        self._begin()

    def _begin(self) -> None:
        self.working = copy.deepcopy(self.committed)
        self.bookings = MemoryBookingStore(self.working)
        self.idempotency = MemoryIdempotencyKeys(self.working)
        self.driver_pages = MemoryDriverPages(self.working)


class RecordingPublisher:
    """Counts the wake-ups: one per committed change."""

    def __init__(self) -> None:
        self.wakes = 0

    def wake(self) -> None:
        self.wakes += 1
