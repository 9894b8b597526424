"""The ports the booking use cases need: small Protocols, with a SQLAlchemy adapter
(services/adapters/sql_bookings.py) and an in-memory one (services/adapters/memory_bookings.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from lanes.booking import Booking
from lanes.bookings import SlotCapacity
from lanes.values import Direction


@dataclass(frozen=True, slots=True)
class EarlierRequest:
    """What an earlier request with the same idempotency key was, and was answered."""

    request_hash: str
    booking_id: str | None
    status_code: int
    response: dict[str, Any] | None


class BookingStore(Protocol):
    """Bookings, slot places and the booking events, inside one transaction."""

    async def manifest_cargo(self, firm_id: str, manifest_id: str) -> tuple[Direction, bool] | None:
        """The firm's manifest's direction and whether it is perishable; None: no such one."""

    async def add(self, booking: Booking) -> bool:
        """Store a new booking; False when its manifest already has an active one."""

    async def active_booking_id(self, manifest_id: str) -> str | None: ...

    async def get(
        self, firm_id: str, booking_id: str, *, for_update: bool = False
    ) -> Booking | None:
        """The firm's booking (locked for this transaction when `for_update`); None for a
        missing id and for another firm's alike."""

    async def take_place(self, booking: Booking, slot_start: datetime, cap: SlotCapacity) -> bool:
        """One place for `booking` in the slot at `slot_start`; False when it is full."""

    async def release_place(self, booking: Booking) -> None:
        """Give back the place `booking` holds in its slot."""

    async def save(self, before: Booking, after: Booking) -> None:
        """Write `after` if the stored booking is still `before` (its version)."""

    async def record_event(self, booking: Booking, type_: str, **extra: Any) -> None:
        """A booking event, into the outbox of this transaction."""


class IdempotencyKeys(Protocol):
    async def claim(
        self, firm_id: str, key: str, request_hash: str, now: datetime
    ) -> EarlierRequest | None:
        """None: the key is ours now; else the earlier request that used it."""

    async def answer(
        self, firm_id: str, key: str, booking_id: str, status_code: int, response: Mapping[str, Any]
    ) -> None:
        """Keep the answer given under the key, for a retry."""


class DriverPages(Protocol):
    async def booked(self, booking_id: str, now: datetime) -> None:
        """The driver's page of a new booking ("booked")."""


class BookingUnitOfWork(Protocol):
    """One transaction of the booking use cases: nothing is kept unless `commit` is called
    (leaving the block without it rolls back)."""

    @property
    def bookings(self) -> BookingStore: ...

    @property
    def idempotency(self) -> IdempotencyKeys: ...

    @property
    def driver_pages(self) -> DriverPages: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class EventPublisher(Protocol):
    """Publishes the events a committed transaction recorded (the booking outbox relay)."""

    def wake(self) -> None: ...
