"""The booking ports on the database (SQLAlchemy): one session, one transaction a unit of
work, the write lock taken up front (services/db/bookings.py `begin_booking_write`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.booking import Booking, ManifestTerms
from lanes.bookings import SlotCapacity
from services.db import bookings as db
from services.db import idempotency
from services.db.driver_pages import booking_page_key, end_booking_pages
from services.db.driver_tables import DriverPageRow
from services.drivers.store import save_pages
from services.drivers.view import booked_state
from services.ports import EarlierRequest


class SqlBookingStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def manifest_cargo(self, firm_id: str, manifest_id: str) -> ManifestTerms | None:
        return await db.manifest_cargo(
            session=self.session, firm_id=firm_id, manifest_id=manifest_id
        )

    async def add(self, booking: Booking) -> bool:
        return await db.insert_booking(session=self.session, booking=booking)

    async def active_booking_id(self, manifest_id: str) -> str | None:
        return await db.active_booking_id(session=self.session, manifest_id=manifest_id)

    async def get(
        self, firm_id: str, booking_id: str, *, for_update: bool = False
    ) -> Booking | None:
        return await db.get_booking(
            session=self.session, firm_id=firm_id, booking_id=booking_id, for_update=for_update
        )

    async def firm_of(self, booking_id: str) -> str | None:
        return await db.booking_firm(session=self.session, booking_id=booking_id)

    async def last_check_in(self, booking_id: str) -> datetime | None:
        return await db.last_event_at(
            session=self.session, booking_id=booking_id, type_="booking.checked_in"
        )

    async def take_place(self, booking: Booking, slot_start: datetime, cap: SlotCapacity) -> bool:
        return await db.take_place(
            session=self.session, booking=booking, slot_start=slot_start, cap=cap
        )

    async def release_place(self, booking: Booking) -> None:
        await db.release_place(session=self.session, booking=booking)

    async def save(self, before: Booking, after: Booking) -> None:
        await db.save_booking(self.session, before, after)

    async def record_event(
        self, booking: Booking, type_: str, *, occurred_at: datetime | None = None, **extra: Any
    ) -> None:
        await db.record_event(self.session, booking, type_, occurred_at=occurred_at, **extra)


class SqlIdempotencyKeys:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self, firm_id: str, key: str, request_hash: str, now: datetime
    ) -> EarlierRequest | None:
        earlier = await idempotency.claim_idempotency_key(
            session=self.session, firm_id=firm_id, key=key, request_hash=request_hash, now=now
        )
        if earlier is None:
            return None
        return EarlierRequest(
            earlier.request_hash, earlier.booking_id, earlier.status_code, earlier.response
        )

    async def answer(
        self, firm_id: str, key: str, booking_id: str, status_code: int, response: Mapping[str, Any]
    ) -> None:
        await idempotency.store_idempotent_response(
            session=self.session,
            firm_id=firm_id,
            key=key,
            booking_id=booking_id,
            status_code=status_code,
            response=response,
        )


class SqlDriverPages:
    def __init__(self, session: AsyncSession, secret: bytes) -> None:
        self.session, self.secret = session, secret

    async def booked(
        self,
        booking_id: str,
        now: datetime,
        *,
        phone: str | None = None,
        slot: tuple[datetime, datetime] | None = None,
    ) -> None:
        key = booking_page_key(booking_id)
        state = booked_state(slot)
        await save_pages(session=self.session, secret=self.secret, states={key: state}, now=now)
        if phone is not None:
            await self.session.execute(
                update(DriverPageRow).where(DriverPageRow.page_key == key).values(phone=phone)
            )

    async def moved(self, booking_id: str, slot: tuple[datetime, datetime], now: datetime) -> None:
        key = booking_page_key(booking_id)
        row = await self.session.scalar(select(DriverPageRow).where(DriverPageRow.page_key == key))
        if row is None or row.state.get("status") != "booked":
            return  # no page, or the truck is queued: the call-forward worker's page
        await save_pages(
            session=self.session,
            secret=self.secret,
            states={key: booked_state(slot)},
            now=now,
            only_existing=True,
        )

    async def cancelled(self, booking_id: str, now: datetime) -> None:
        # a queued truck's page is left to the call-forward worker, which words its lost place
        await end_booking_pages(
            session=self.session, booking_ids=[booking_id], status="cancelled", written_at=now
        )


class SqlBookingUnitOfWork:
    """`async with uow:` opens a session and takes the booking write lock; leaving the block
    without `commit` rolls back."""

    bookings: SqlBookingStore
    idempotency: SqlIdempotencyKeys
    driver_pages: SqlDriverPages

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, drivers_secret: bytes
    ) -> None:
        self.sessions, self.drivers_secret = sessions, drivers_secret

    async def __aenter__(self) -> Self:
        self.session = self.sessions()
        await db.begin_booking_write(session=self.session)
        self.bookings = SqlBookingStore(self.session)
        self.idempotency = SqlIdempotencyKeys(self.session)
        self.driver_pages = SqlDriverPages(self.session, self.drivers_secret)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.session.rollback()  # nothing left once committed
        finally:
            await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
