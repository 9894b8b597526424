"""What the decider's worker calls (SQLite and PostgreSQL): `booking_for_arrival` (a truck
more than the grace period late loses its slot), `expire_bookings` (no-shows counted per
firm), `mark_used`; and the outbox publisher sending every booking event once, in order."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.bookings import BookedSlot, BookingState
from services.adapters.booking_outbox import BookingOutbox
from services.adapters.sql_bookings import SqlBookingStore
from services.db import booking_arrivals as arrivals
from services.db import bookings as repo
from services.db.booking_tables import BookingEventRow, SlotCountRow
from services.db.engine import session_factory
from services.db.idempotency import KEEP, purge_idempotency_keys
from services.gates.loader import default_gates
from services.service_layer import bookings as use_cases
from streams.topics import BOOKINGS
from tests.integration.test_bookings_api import (
    add_firms,
    add_manifests,
    auth,
    local_slot,
    make_client,
)

GATE = default_gates()["huu-nghi"]


async def _book(engine: AsyncEngine, firm: str, manifest_id: str, days: int, hour: int) -> Any:
    at = local_slot(days, hour)
    async with session_factory(engine)() as session, session.begin():
        return await use_cases.book(
            SqlBookingStore(session),
            firm_id=firm,
            manifest_id=manifest_id,
            gate=GATE,
            slot_start=at,
            now=at - timedelta(days=1),
        )


async def test_arrivals_no_shows_and_used(engine: AsyncEngine) -> None:
    await add_firms(engine, ["firm-a", "firm-b"])
    await add_manifests(engine, "firm-a", ["A-1", "A-2", "A-3"])
    await add_manifests(engine, "firm-b", ["B-1"])
    on_time = await _book(engine, "firm-a", "A-1", 1, 10)
    await _book(engine, "firm-a", "A-2", 1, 10)
    absent = await _book(engine, "firm-a", "A-3", 1, 10)
    theirs = await _book(engine, "firm-b", "B-1", 1, 10)
    sessions = session_factory(engine)

    end = on_time.slot_end
    async with sessions() as session, session.begin():
        found = await arrivals.booking_for_arrival(
            session=session, manifest_ids=["A-1", "NOPE"], at=end - timedelta(minutes=5)
        )
        assert found == {"A-1": BookedSlot(on_time.slot_start, end, BookingState.ACTIVE)}
        assert await arrivals.mark_used(session=session, manifest_ids=["A-1"], at=end) == 1
    async with sessions() as session, session.begin():
        found = await arrivals.booking_for_arrival(
            session=session, manifest_ids=["A-2"], at=end + timedelta(minutes=61)
        )
        assert found["A-2"].status is BookingState.LOST_LATE
    async with sessions() as session, session.begin():  # lost: the truck is a walk-in now
        assert (
            await arrivals.booking_for_arrival(session=session, manifest_ids=["A-2"], at=end) == {}
        )
    async with sessions() as session, session.begin():
        assert (
            await arrivals.expire_bookings(session=session, now=end + timedelta(minutes=30)) == {}
        )
        counts = await arrivals.expire_bookings(session=session, now=end + timedelta(minutes=61))
    assert counts == {"firm-a": 1, "firm-b": 1}
    async with sessions() as session, session.begin():
        assert await arrivals.expire_bookings(session=session, now=end + timedelta(hours=5)) == {}
        assert await arrivals.firm_no_shows(session=session, firm_id="firm-a") == 1
        assert await arrivals.firm_no_shows(session=session, firm_id="nobody") == 0
        states = {
            b.manifest_id: b.status
            for b in await repo.list_bookings(session=session, firm_id="firm-a", limit=10)
        }
        assert states == {
            "A-1": BookingState.USED,
            "A-2": BookingState.LOST_LATE,
            "A-3": BookingState.NO_SHOW,
        }
        other = await repo.get_booking(
            session=session, firm_id="firm-b", booking_id=theirs.booking_id
        )
        assert other is not None and other.status is BookingState.NO_SHOW
        assert (
            await repo.get_booking(session=session, firm_id="firm-a", booking_id=theirs.booking_id)
            is None
        )
        # a slot that is over keeps its count: no-shows release nothing
        booked = await session.scalar(
            select(SlotCountRow.booked).where(SlotCountRow.slot_start == absent.slot_start)
        )
        assert booked == 4
        types = list(await session.scalars(select(BookingEventRow.type)))
    assert sorted(types) == sorted(
        ["booking.created"] * 4
        + ["booking.used", "booking.lost_late", "booking.no_show", "booking.no_show"]
    )


class _Future:
    def __await__(self) -> Any:
        yield from ()
        return None


class RecordingProducer:
    def __init__(self, fail: int = 0) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.fail = fail
        self.started = self.stopped = 0

    async def start(self) -> None:
        self.started += 1

    async def stop(self) -> None:
        self.stopped += 1

    async def send(self, topic: str, **kwargs: Any) -> _Future:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("broker down")
        self.sent.append((topic, kwargs["key"], kwargs["value"]))
        return _Future()


async def test_the_outbox_sends_each_event_once_in_order(engine: AsyncEngine) -> None:
    await add_firms(engine, ["firm-a"])
    await add_manifests(engine, "firm-a", ["A-1", "A-2"])
    first = await _book(engine, "firm-a", "A-1", 1, 10)
    second = await _book(engine, "firm-a", "A-2", 1, 11)
    async with session_factory(engine)() as session, session.begin():
        await use_cases.cancel(
            SqlBookingStore(session),
            firm_id="firm-a",
            booking_id=first.booking_id,
            now=second.created_at + timedelta(minutes=1),
        )

    producer = RecordingProducer(fail=1)
    outbox = BookingOutbox(sessions=session_factory(engine), producer=lambda: producer)
    try:
        await outbox.drain()
        raise AssertionError("the first send fails")
    except ConnectionError:
        pass
    assert producer.sent == []
    assert await outbox.drain() == 3
    assert await outbox.drain() == 0
    topics = {t for t, _, _ in producer.sent}
    assert topics == {BOOKINGS.name}
    events = [json.loads(v) for _, _, v in producer.sent]
    assert [e["type"] for e in events][-1] == "booking.cancelled"
    assert all(e["data"]["event_id"] == e["event_id"] for e in events)
    assert producer.sent[-1][1] == first.booking_id.encode()
    assert events[-1]["data"]["status"] == "cancelled" and events[-1]["data"]["version"] == 2


async def test_idempotency_keys_are_forgotten_after_a_day_and_a_retry_stays_safe(
    engine: AsyncEngine,
) -> None:
    keys = await add_firms(engine, ["firm-a"])
    await add_manifests(engine, "firm-a", ["A-1"])
    body = {"manifest_id": "A-1", "slot_start": local_slot(1, 10).isoformat()}
    async with make_client(engine) as client:
        first = await client.post("/v1/bookings", json=body, headers=auth(keys["firm-a"], "k-1"))
        sessions = session_factory(engine)
        later = datetime.now(UTC) + KEEP + timedelta(minutes=1)
        async with sessions() as session, session.begin():
            assert await purge_idempotency_keys(session=session, now=datetime.now(UTC)) == 0
            assert await purge_idempotency_keys(session=session, now=later) == 1
        retry = await client.post("/v1/bookings", json=body, headers=auth(keys["firm-a"], "k-1"))
    assert first.status_code == 201
    # The key is gone, so the retry is a new request; the manifest's one active booking
    # refuses it and names the booking the first request made.
    assert retry.status_code == 409
    assert first.json()["booking_id"] in retry.json()["detail"]
