"""The review queue lists the truck waiting longest first, with how long it has waited. Found
by a tester as a lane controller: the queue listed the newest decision first, so the truck
that had waited longest was at the bottom (or, past 50, not listed at all), and a truck held
again by a controller jumped to the top however recently it had arrived.

Three visits in review are written before the API starts: arrived 50, 20 and 5 minutes ago,
the first decided (held) after the last. The page and `GET /v1/review` list them in arrival
order, and `before` (the name of the cursor when the queue listed newest first) pages the
same way, so a client written then neither loops nor repeats a truck."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from services.bootstrap import Infrastructure
from services.db.tables import DecisionRow, VisitRow
from tests.browser.live import PASSWORD
from tests.browser.test_control_room import log_in
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]

# plate, minutes since it arrived, minutes since its decision to review
VISITS = (("29H10001", 50, 3), ("29H10002", 20, 19), ("29H10003", 5, 4))


def in_review(
    plate: str,
    *,
    arrived: datetime,
    decided: datetime,
    clock: datetime,
    manifest_id: str | None = None,
    candidates: tuple[str, ...] = (),
) -> tuple[VisitRow, DecisionRow]:
    """A visit in review as the decider leaves one; `clock`: its last read (the gate's
    clock is the newest), `candidates`: the manifests weighed."""
    visit = VisitRow(
        visit_id=f"v-{plate}",
        gate_id="huu-nghi",
        direction="export",
        plate=plate,
        first_seen_at=arrived,
        last_seen_at=clock,
        read_count=2,
    )
    weighed = [
        {"manifest_id": m, "plate": plate, "score": 0.8, "closest_read": plate} for m in candidates
    ]
    decision = DecisionRow(
        decision_id=f"d-{plate}",
        visit_id=f"v-{plate}",
        gate_id="huu-nghi",
        plate=plate,
        manifest_id=manifest_id,
        outcome="needs_review",
        match_outcome="ambiguous" if candidates else "unknown",
        match_score=0.8 if candidates else 0.0,
        match_candidates=weighed,
        reason=f"no manifest for plate {plate}",
        decided_at=decided,
        read_event_ids=[],
        published_at=decided,
    )
    return visit, decision


async def three_in_review(infra: Infrastructure) -> None:
    now = datetime.now(UTC)
    async with infra.sessions() as session, session.begin():
        for plate, arrived, decided in VISITS:
            session.add_all(
                in_review(
                    plate,
                    arrived=now - timedelta(minutes=arrived),
                    decided=now - timedelta(minutes=decided),
                    clock=now - timedelta(minutes=1),
                )
            )


async def test_the_review_queue_lists_the_longest_waiting_first(
    browser: Browser, tmp_path: Path
) -> None:
    async with api_on_a_port(tmp_path, seed=three_in_review) as port:
        base = f"http://127.0.0.1:{port}"
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await log_in(page, base, "ana")
        items = page.locator("[data-review]")
        await expect(items).to_have_count(3)
        plates = [plate for plate, _, _ in VISITS]
        assert [await items.nth(i).get_attribute("data-plate") for i in range(3)] == plates
        waits = ["waits 49.0 min", "waits 19.0 min", "waits 4.0 min"]  # at the newest read
        await expect(items.locator(".waits")).to_have_text(waits)
        await page.close()

        async with httpx.AsyncClient(base_url=base) as client:
            login = {"username": "vic", "password": PASSWORD}
            assert (await client.post("/control/api/login", json=login)).status_code == 200
            first = (await client.get("/v1/review", params={"limit": 2})).json()
            rest = (await client.get("/v1/review", params={"after": first["next"]})).json()
            assert [i["plate"] for i in first["items"] + rest["items"]] == plates
            assert rest["next"] is None
            old = await client.get("/v1/review", params={"before": first["next"]})
            assert old.status_code == 200
            assert [i["plate"] for i in old.json()["items"]] == plates[2:]
            both = {"before": first["next"], "after": "2020-01-01T00:00:00+00:00|x"}
            assert (await client.get("/v1/review", params=both)).status_code == 422
