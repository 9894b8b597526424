"""No overbooking under concurrency, on PostgreSQL and SQLite: 200 booking requests from 20
firms race for one slot of capacity 10 through one app (httpx ASGI transport, asyncio.gather)
-> exactly 10 bookings and 190 clear 409 refusals, no 5xx; then cancels, rebookings and
reschedules race, and the slot's count stays equal to its active bookings, within capacity."""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.bookings import BookingRules
from services.db.booking_tables import BookingRow, SlotCountRow
from services.db.engine import session_factory
from tests.integration.test_bookings_api import (
    add_firms,
    add_manifests,
    auth,
    gates_with,
    local_slot,
    make_client,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

CAPACITY = 10
FIRMS = 20
PER_FIRM = 20


async def _counts(engine: AsyncEngine, at: datetime) -> tuple[int, int]:
    async with session_factory(engine)() as session:
        active = await session.scalar(
            select(func.count()).where(BookingRow.status == "active", BookingRow.slot_start == at)
        )
        booked = await session.scalar(
            select(SlotCountRow.booked).where(SlotCountRow.slot_start == at)
        )
    return int(active or 0), int(booked or 0)


async def test_one_slot_never_overbooked(engine: AsyncEngine) -> None:
    firms = [f"firm-{i:02d}" for i in range(FIRMS)]
    keys = await add_firms(engine, firms)
    for firm in firms:
        await add_manifests(engine, firm, [f"{firm}-m{j:02d}" for j in range(PER_FIRM)])
    rules = BookingRules(export_per_slot=CAPACITY, import_per_slot=CAPACITY, perishable_share=0)
    at, other = local_slot(1, 10), local_slot(1, 11)

    async with make_client(engine, gates_with(rules)) as client:

        async def book(firm: str, j: int, slot: datetime, tag: str) -> httpx.Response:
            return await client.post(
                "/v1/bookings",
                json={"manifest_id": f"{firm}-m{j:02d}", "slot_start": slot.isoformat()},
                headers=auth(keys[firm], f"{tag}-{firm}-{j}"),
            )

        first = await asyncio.gather(*(book(firm, j, at, "a") for j in range(10) for firm in firms))
        statuses = [r.status_code for r in first]
        assert statuses.count(201) == CAPACITY, statuses
        assert statuses.count(409) == 200 - CAPACITY, statuses
        refusal = next(r for r in first if r.status_code == 409).json()
        assert "slot full" in refusal["detail"] and f"capacity {CAPACITY}" in refusal["detail"]
        assert refusal["type"].endswith("slot-full")
        assert await _counts(engine, at) == (CAPACITY, CAPACITY)

        # bookings waiting in the next slot, to be rescheduled into this one
        waiting = [
            r.json()
            for r in await asyncio.gather(
                *(book(firm, 15, other, "w") for firm in firms[:CAPACITY])
            )
        ]
        assert all("booking_id" in w for w in waiting)
        owners = {
            r.json()["booking_id"]: r.json()["manifest_id"] for r in first if r.status_code == 201
        }

        async def cancel(booking_id: str, manifest_id: str) -> httpx.Response:
            firm = manifest_id.rsplit("-m", 1)[0]
            return await client.post(f"/v1/bookings/{booking_id}/cancel", headers=auth(keys[firm]))

        async def move(booking: dict[str, str]) -> httpx.Response:
            firm = booking["manifest_id"].rsplit("-m", 1)[0]
            return await client.post(
                f"/v1/bookings/{booking['booking_id']}/reschedule",
                json={"slot_start": at.isoformat()},
                headers=auth(keys[firm]),
            )

        cancelled = list(owners.items())[: CAPACITY // 2]
        mixed = await asyncio.gather(
            *(cancel(b, m) for b, m in cancelled),
            *(book(firm, 10 + i // FIRMS, at, "b") for i, firm in enumerate(firms * 2)),
            *(move(w) for w in waiting),
        )
        assert all(r.status_code in (200, 201, 409) for r in mixed), [
            (r.status_code, r.text) for r in mixed if r.status_code not in (200, 201, 409)
        ]
        assert all(r.status_code == 200 for r in mixed[: len(cancelled)])
        gained = sum(r.status_code in (200, 201) for r in mixed[len(cancelled) :])
        active, booked = await _counts(engine, at)
        assert active == booked <= CAPACITY
        assert active == CAPACITY - len(cancelled) + gained
        left_in_other = await _counts(engine, other)
        assert left_in_other[0] == left_in_other[1]
