"""A booked manifest's `perishable` stays as its booking counted it (over HTTP, SQLite and
PostgreSQL): the amendment that changes it is a 409 naming the field and the booking, as a
change of direction is (the topic's and the import's view: tests/unit/test_manifest_handlers.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.filing import StoreStatus
from lanes.model import Direction, Manifest
from services.db.engine import session_factory
from services.db.manifests import store_manifests
from tests.integration.test_bookings_api import (
    T0,
    _book,
    add_firms,
    add_manifests,
    auth,
    local_slot,
    make_client,
    problem,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def _slot(client: httpx.AsyncClient, key: str, at: Any) -> dict[str, Any]:
    listed = await client.get(
        "/v1/slots",
        params={"direction": "export", "from": at.isoformat(), "to": at + timedelta(hours=1)},
        headers=auth(key),
    )
    assert listed.status_code == 200, listed.text
    slot: dict[str, Any] = listed.json()["slots"][0]
    return slot


async def test_a_booked_manifests_perishable_flag_keeps_until_its_booking_is_cancelled(
    engine: AsyncEngine,
) -> None:
    """Re-sending a booked manifest as perishable was 200 'updated' while its booking stayed
    counted as general cargo: the slot's perishable count drifted from the truth."""
    keys = await add_firms(engine, ["firm-a"])
    key = keys["firm-a"]
    await add_manifests(engine, "firm-a", ["G-1"])
    await add_manifests(engine, "firm-a", ["P-1"], perishable=True)
    at = local_slot(1, 10)
    form = {
        "tractor_plate": "29H12345",
        "direction": "export",
        "customs_status": "cleared",
        "window_start": (at - timedelta(hours=2)).isoformat(),
        "window_end": (at + timedelta(hours=2)).isoformat(),
    }
    async with make_client(engine) as client:
        general = (await _book(client, key, "G-1", at, "g-1")).json()
        perishable = (await _book(client, key, "P-1", at, "p-1")).json()
        assert (await _slot(client, key, at))["booked_perishable"] == 1

        for manifest_id, booking, flag in (("G-1", general, True), ("P-1", perishable, False)):
            sent = await client.post(
                "/v1/manifests",
                json=form | {"manifest_id": manifest_id, "perishable": flag},
                headers=auth(key),
            )
            body = problem(sent, 409)
            assert body["type"] == "urn:borderflow:problem:manifest-booked"
            assert [e["field"] for e in body["errors"]] == ["perishable"]
            assert booking["booking_id"] in body["detail"] and "cancel it" in body["detail"]
            kept = await client.get(f"/v1/manifests/{manifest_id}", headers=auth(key))
            assert kept.json()["perishable"] is not flag and kept.json()["version"] == 1
        slot = await _slot(client, key, at)
        assert (slot["booked"], slot["booked_perishable"]) == (2, 1)

        # an amendment the booking does not count is as before
        amended = await client.post(
            "/v1/manifests",
            json=form | {"manifest_id": "G-1", "tractor_plate": "29H54321"},
            headers=auth(key),
        )
        assert amended.status_code == 200 and amended.json()["status"] == "updated", amended.text
        cancel = await client.post(
            f"/v1/bookings/{general['booking_id']}/cancel", headers=auth(key)
        )
        assert cancel.status_code == 200
        now_perishable = await client.post(
            "/v1/manifests",
            json=form | {"manifest_id": "G-1", "tractor_plate": "29H54321", "perishable": True},
            headers=auth(key),
        )
        assert now_perishable.status_code == 200, now_perishable.text
        assert now_perishable.json()["perishable"] is True


async def test_a_booking_made_while_its_manifest_is_amended_counts_the_amended_cargo(
    engine: AsyncEngine,
) -> None:
    """PostgreSQL: a booking read its manifest's cargo without a lock, so one made while an
    amendment to perishable was uncommitted counted the old kind (general), and the
    amendment, seeing no active booking yet, was taken: the drift again, by a race. The
    booking now waits for the amendment (FOR SHARE against its FOR UPDATE)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes its write lock up front: the two cannot interleave")
    keys = await add_firms(engine, ["firm-a"])
    key = keys["firm-a"]
    await add_manifests(engine, "firm-a", ["G-1"])
    at = local_slot(1, 10)
    amended = Manifest(
        manifest_id="G-1",
        firm_id="firm-a",
        direction=Direction.EXPORT,
        tractor_plate="29H12345",
        perishable=True,
    )
    async with make_client(engine) as client:
        async with session_factory(engine)() as amending, amending.begin():
            [result] = await store_manifests(
                session=amending, manifests=[amended], source="topic", now=T0
            )
            assert result.status is StoreStatus.UPDATED
            amender = await amending.scalar(text("SELECT pg_backend_pid()"))
            booking = asyncio.create_task(_book(client, key, "G-1", at, "race-1"))
            # until the booking has ended, or waits for the amendment (it did not, before:
            # it read the committed, general, cargo and went on)
            async with engine.connect() as watch:
                while not booking.done():
                    blocked = await watch.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE CAST(:amender AS integer) = ANY(pg_blocking_pids(pid))"
                        ),
                        {"amender": amender},
                    )
                    if blocked:
                        break
                    await watch.rollback()  # pg_stat_activity is read once a transaction
                    await asyncio.sleep(0.01)
        booked = await booking
        assert booked.status_code == 201, booked.text
        assert booked.json()["perishable"] is True
        slot = await _slot(client, key, at)
        assert (slot["booked"], slot["booked_perishable"]) == (1, 1)
