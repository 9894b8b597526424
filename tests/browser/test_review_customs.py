"""A truck whose customs clearance is pending cannot be placed: the domain refuses it
(`lanes.actions.place_with_manifest`: 409 `manifest_id: ... is not cleared by customs`), so
the review queue does not offer it. Found by a tester as a lane controller: Pick and Release
were offered on such a manifest, and pressing them only earned the refusal. Now they are
disabled, saying why ("customs pending"); a cleared manifest's Pick is still offered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from lanes.model import CustomsStatus
from services.bootstrap import Infrastructure
from tests.browser.test_control_room import log_in
from tests.browser.test_review_order import in_review
from tests.integration.harness import manifest, seed
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]


async def pending_and_cleared(infra: Infrastructure) -> None:
    now = datetime.now(UTC)
    await seed(
        infra,
        manifest("MF-PENDING", "29H20001", customs=CustomsStatus.PENDING),
        manifest("MF-CLEARED", "29H20004"),
        now=now,
    )
    async with infra.sessions() as session, session.begin():
        # an ambiguous visit between a pending and a cleared manifest
        session.add_all(
            in_review(
                "29H20002",
                arrived=now - timedelta(minutes=9),
                decided=now - timedelta(minutes=8),
                clock=now,
                candidates=("MF-PENDING", "MF-CLEARED"),
            )
        )
        # a held truck whose manifest went back to pending
        session.add_all(
            in_review(
                "29H20001",
                arrived=now - timedelta(minutes=7),
                decided=now - timedelta(minutes=2),
                clock=now,
                manifest_id="MF-PENDING",
            )
        )


async def test_pick_and_release_are_not_offered_while_customs_is_pending(
    browser: Browser, tmp_path: Path
) -> None:
    async with api_on_a_port(tmp_path, seed=pending_and_cleared) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        ambiguous = page.locator('[data-review="v-29H20002"]')
        pending = ambiguous.locator('[data-candidate="MF-PENDING"]')
        await expect(pending.locator('[data-action="pick_manifest"]')).to_be_disabled()
        await expect(pending).to_contain_text("customs pending")
        await expect(pending.locator('[data-action="pick_manifest"]')).to_have_attribute(
            "title", "customs clearance pending: the gate cannot place this truck yet"
        )
        cleared = ambiguous.locator('[data-candidate="MF-CLEARED"]')
        await expect(cleared.locator('[data-action="pick_manifest"]')).to_be_enabled()
        await expect(cleared).not_to_contain_text("customs pending")

        held = page.locator('[data-review="v-29H20001"]')
        await expect(held.locator('[data-action="release"]')).to_be_disabled()
        await expect(held.locator(".acts")).to_contain_text("customs pending")
        await page.close()
