"""One contract suite for the booking ports' two adapters: the same use cases
(services/service_layer/bookings.py) on the in-memory unit of work and on SQLite, observed
only through the ports, must answer alike. What the in-memory adapter lets the unit tests
(tests/unit/test_booking_handlers.py) assume, this checks against the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from lanes.booking import Booking, BookingRefused, ManifestTerms
from lanes.bookings import BookingRules, BookingState
from lanes.model import Manifest
from lanes.values import Direction
from services.adapters.memory_bookings import (
    BookingData,
    MemoryBookingUnitOfWork,
    RecordingPublisher,
)
from services.adapters.sql_bookings import SqlBookingUnitOfWork
from services.bootstrap import open_database
from services.db.firms import create_firm
from services.db.manifests import store_manifests
from services.gates.loader import default_gates
from services.ports import BookingUnitOfWork
from services.runtime.settings import DatabaseSettings
from services.service_layer.bookings import (
    Booked,
    BookSlot,
    CancelSlot,
    IdempotencyKeyReused,
    Replayed,
    RescheduleSlot,
    book_slot,
    cancel_slot,
    reschedule_slot,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

# one export place a slot, none of it kept for perishable cargo
GATE = replace(
    default_gates()["huu-nghi"], booking=BookingRules(export_per_slot=1, perishable_share=0.0)
)
GATES = {GATE.gate_id: GATE}
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 08:00 at the gate (UTC+7)
SLOT = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 10:00-11:00 local, the next day
HOUR = timedelta(hours=1)
OWNED = {"firm-a": ["A-1", "A-2"], "firm-b": ["B-1"]}


@dataclass
class Backend:
    uow: BookingUnitOfWork
    publisher: RecordingPublisher

    async def book(self, manifest: str, *, firm: str = "firm-a", **kw: Any) -> Booked | Replayed:
        cmd = BookSlot(firm, manifest, GATE.gate_id, kw.pop("slot", SLOT), **kw)
        return await book_slot(
            cmd, uow=self.uow, publisher=self.publisher, gates=GATES, now=NOW, present=_present
        )

    async def booked(self, manifest: str, **kw: Any) -> Booking:
        result = await self.book(manifest, **kw)
        assert isinstance(result, Booked)
        return result.booking

    async def reschedule(self, booking_id: str, slot: datetime) -> Booking:
        cmd = RescheduleSlot("firm-a", booking_id, slot)
        return await reschedule_slot(
            cmd, uow=self.uow, publisher=self.publisher, gates=GATES, now=NOW
        )

    async def cancel(self, booking_id: str, firm: str = "firm-a") -> Booking:
        cmd = CancelSlot(firm, booking_id)
        return await cancel_slot(cmd, uow=self.uow, publisher=self.publisher, now=NOW)

    async def stored(self, booking_id: str, firm: str = "firm-a") -> Booking | None:
        async with self.uow:
            return await self.uow.bookings.get(firm, booking_id)


def _present(booking: Booking) -> dict[str, Any]:
    return {"booking_id": booking.booking_id, "slot_start": booking.slot_start.isoformat()}


@pytest_asyncio.fixture(params=["memory", "sqlite"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "memory":
        data = BookingData()
        for firm, manifests in OWNED.items():
            for m in manifests:
                data.manifests[(firm, m)] = ManifestTerms(Direction.EXPORT, False)
        yield Backend(MemoryBookingUnitOfWork(data), RecordingPublisher())
        return
    settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'bookings.db'}")
    async with open_database(settings, gates=GATES) as sessions:
        async with sessions() as session, session.begin():
            for firm, manifests in OWNED.items():
                await create_firm(session=session, firm_id=firm, name=firm, now=NOW)
                await store_manifests(
                    session=session,
                    manifests=[Manifest(m, firm, Direction.EXPORT, "29H12345") for m in manifests],
                    source="http",
                    now=NOW,
                )
        yield Backend(
            SqlBookingUnitOfWork(sessions, drivers_secret=b"k" * 32), RecordingPublisher()
        )


async def test_booked_rescheduled_and_cancelled_alike(backend: Backend) -> None:
    booking = await backend.booked("A-1")
    assert await backend.stored(booking.booking_id) == booking

    moved = await backend.reschedule(booking.booking_id, SLOT + HOUR)
    other = await backend.booked("A-2")  # the place A-1 left
    cancelled = await backend.cancel(booking.booking_id)

    assert (moved.slot_start, moved.slot_end, moved.version) == (SLOT + HOUR, SLOT + 2 * HOUR, 2)
    assert other.slot_start == SLOT
    assert (cancelled.status, cancelled.version) == (BookingState.CANCELLED, 3)
    assert await backend.stored(booking.booking_id) == cancelled
    assert await backend.cancel(booking.booking_id) == cancelled  # again: unchanged
    assert backend.publisher.wakes == 5


async def test_refusals_alike_and_nothing_kept(backend: Backend) -> None:
    first = await backend.booked("A-1")
    refusals = []
    for call in (
        backend.book("A-1", slot=SLOT + HOUR),  # already booked
        backend.book("A-2", idempotency_key="k-1", request_hash="h"),  # slot full
        backend.book("B-1", firm="firm-a"),  # another firm's manifest
        backend.cancel(first.booking_id, firm="firm-b"),  # another firm's booking
        backend.reschedule(first.booking_id, SLOT + timedelta(minutes=5)),  # not a boundary
    ):
        with pytest.raises(BookingRefused) as refused:
            await call
        refusals.append(refused.value.kind)

    assert refusals == [
        "already_booked",
        "slot_full",
        "manifest_not_found",
        "booking_not_found",
        "window",
    ]
    assert await backend.stored(first.booking_id) == first
    # the refused request kept nothing under its key: once there is room, the key books
    await backend.cancel(first.booking_id)
    again = await backend.book("A-2", idempotency_key="k-1", request_hash="h")
    assert isinstance(again, Booked)


async def test_a_key_replays_its_answer_alike(backend: Backend) -> None:
    first = await backend.book("A-1", idempotency_key="k-1", request_hash="h")
    retry = await backend.book("A-1", idempotency_key="k-1", request_hash="h")

    assert isinstance(first, Booked)
    assert isinstance(retry, Replayed)
    assert retry.earlier.response == first.answer
    assert (retry.earlier.booking_id, retry.earlier.status_code) == (first.booking.booking_id, 201)
    with pytest.raises(IdempotencyKeyReused):
        await backend.book("A-2", idempotency_key="k-1", request_hash="other")
