"""A firm's bookings on other days than today, as docs/http-api.md ("Other days, and the
gate's day"; "A booking already held is not bound by its slot's cut-off") says, over HTTP on
SQLite and PostgreSQL, the API's clock fixed (2027-03-09 09:00 at the gate, +07:00).

Checked 2026-12-06 by a firm's integrator with curl: the guide did not say what a slot on a
past day or beyond the horizon answers, nor whether a booking may still be changed once its
slot's cut-off has passed (it may, while active); these tests hold the page to the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from streams import clock
from tests.integration.test_bookings_api import add_firms, add_manifests, auth, make_client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

LOCAL = timedelta(hours=7)
# 09:00 local on 2027-03-10, the slot booked; the API's clock starts a day before
NINE = datetime(2027, 3, 10, 9, tzinfo=UTC) - LOCAL
HOUR = timedelta(hours=1)


async def test_slots_of_a_past_day_and_beyond_the_horizon_are_listed_not_open(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "wall_clock", lambda: NINE - timedelta(days=1))
    key = (await add_firms(engine, ["firm-a"]))["firm-a"]
    await add_manifests(engine, "firm-a", ["A-1"])
    async with make_client(engine) as client:
        for day, bookable in ((-30, False), (1, True), (8, False), (300, False)):
            start = NINE + timedelta(days=day)
            listed = await client.get(
                "/v1/slots",
                params={
                    "direction": "export",
                    "from": start.isoformat(),
                    "to": (start + HOUR).isoformat(),
                },
                headers=auth(key),
            )
            assert listed.status_code == 200, listed.text
            assert [s["open"] for s in listed.json()["slots"]] == [bookable]
        answers = {
            day: await client.post(
                "/v1/bookings",
                json={"manifest_id": "A-1", "slot_start": (NINE + timedelta(days=day)).isoformat()},
                headers=auth(key, f"k{day}"),
            )
            for day in (-30, 8)
        }
    for day, words in ((-30, "the slot starts in the past"), (8, "beyond the booking horizon")):
        assert answers[day].status_code == 422, answers[day].text
        problem = answers[day].json()
        assert problem["type"] == "urn:borderflow:problem:slot-not-bookable"
        assert problem["errors"][0]["field"] == "slot_start"
        assert problem["errors"][0]["message"].startswith(words)


async def test_an_active_booking_may_be_changed_after_its_cut_off_until_the_gate_settles_it(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [NINE - timedelta(days=1)]
    monkeypatch.setattr(clock, "wall_clock", lambda: now[0])
    key = (await add_firms(engine, ["firm-a"]))["firm-a"]
    moments = {
        "A-1": NINE - timedelta(minutes=29),  # past the cut-off (08:30)
        "A-2": NINE + timedelta(minutes=10),  # the slot has begun
        "A-3": NINE + 3 * HOUR,  # the slot ended two hours ago, nothing settled it
    }
    await add_manifests(engine, "firm-a", [*moments, "A-4"])
    async with make_client(engine) as client:
        booked = {}
        for manifest in [*moments, "A-4"]:
            answer = await client.post(
                "/v1/bookings",
                json={"manifest_id": manifest, "slot_start": NINE.isoformat()},
                headers=auth(key, manifest),
            )
            assert answer.status_code == 201, answer.text
            booked[manifest] = answer.json()["booking_id"]
        later = (NINE + 5 * HOUR).isoformat()
        for manifest, at in moments.items():
            now[0] = at
            moved = await client.post(
                f"/v1/bookings/{booked[manifest]}/reschedule",
                json={"slot_start": later},
                headers=auth(key),
            )
            assert moved.status_code == 200, moved.text
            assert moved.json()["version"] == 2
            cancelled = await client.post(
                f"/v1/bookings/{booked[manifest]}/cancel", headers=auth(key)
            )
            assert cancelled.status_code == 200, cancelled.text
            assert cancelled.json()["status"] == "cancelled"
        # the new slot must be open: one past its cut-off is refused, the old slot kept
        now[0] = NINE + 5 * HOUR - timedelta(minutes=10)
        refused = await client.post(
            f"/v1/bookings/{booked['A-4']}/reschedule",
            json={"slot_start": later},
            headers=auth(key),
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["message"].startswith("past the cut-off")
        kept = await client.get(f"/v1/bookings/{booked['A-4']}", headers=auth(key))
        assert kept.json()["slot_start"] == NINE.isoformat().replace("+00:00", "Z")
