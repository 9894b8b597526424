"""Booking events reach `borderflow.bookings` (embedded broker): the API's lifespan runs the
outbox publisher, each committed change wakes it, and every event is marked published."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.app import ApiContext, create_app
from services.api.ratelimit import RateLimiter
from services.db.booking_tables import BookingEventRow
from services.db.engine import session_factory
from services.gates.loader import default_gates
from services.runtime.settings import KafkaSettings
from streams.clients import ensure_topics
from streams.topics import BOOKINGS
from tests.integration.harness import collect_to_end, wait_until
from tests.integration.test_bookings_api import add_firms, add_manifests, auth, local_slot

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_changes_are_published_after_commit(
    engine: AsyncEngine, kafka_bootstrap: str
) -> None:
    keys = await add_firms(engine, ["firm-a"])
    await add_manifests(engine, "firm-a", ["A-1"])
    settings = KafkaSettings(bootstrap=kafka_bootstrap)
    await ensure_topics(settings, kafka_bootstrap, [BOOKINGS])
    sessions = session_factory(engine)
    context = ApiContext(
        sessions=sessions,
        kafka=settings,
        bootstrap=kafka_bootstrap,
        gates=default_gates(),
        default_gate="huu-nghi",
        limiter=RateLimiter(rate=1000.0, burst=1000),
    )
    app = create_app(context)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        created = await client.post(
            "/v1/bookings",
            json={"manifest_id": "A-1", "slot_start": local_slot(1, 10).isoformat()},
            headers=auth(keys["firm-a"], "k"),
        )
        assert created.status_code == 201, created.text
        booking_id = created.json()["booking_id"]
        cancelled = await client.post(
            f"/v1/bookings/{booking_id}/cancel", headers=auth(keys["firm-a"])
        )
        assert cancelled.status_code == 200

        async def all_published() -> bool:
            async with sessions() as session:
                left = await session.scalar(
                    select(func.count()).where(BookingEventRow.published_at.is_(None))
                )
            return left == 0

        await wait_until(all_published, timeout=30)
    records = await collect_to_end(kafka_bootstrap, BOOKINGS.name)
    ours = [json.loads(r.value) for r in records if r.key == booking_id.encode()]
    assert [e["type"] for e in ours] == ["booking.created", "booking.cancelled"]
    assert [e["data"]["version"] for e in ours] == [1, 2]
    assert all(e["producer"] == "borderflow-api" for e in ours)
