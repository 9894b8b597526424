"""A truck held by an alert and released from the review panel: the alert's line in the
control room says so (by whom, at what gate time, why) instead of "truck held", in a real
headless Chromium against a real system (embedded broker, decider, SQLite, the API on a
TCP port). Until 2026-12-06 it kept saying "truck held"."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.live import running_room
from tests.browser.test_alerts_panel import OTHER, T0
from tests.browser.test_control_room import act, log_in
from tests.integration.harness import manifest, publish, read, seed

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(120)]


async def test_a_released_truck_shows_released_on_the_alert_that_held_it(
    browser: Browser, tmp_path: Path
) -> None:
    async with running_room(tmp_path) as (broker, system, base):
        await seed(system.infra, manifest("MF-2", "29H22222", containers=("MSCU1234565",)), now=T0)
        page = await browser.new_page(viewport={"width": 1600, "height": 1000})
        await log_in(page, base, "ana")
        first = read("s-1", "29H22222", T0)
        await publish(broker.bootstrap, ("hn-exp-gate-1", json.dumps(first).encode()))
        # decided (a carrier slot: it carries a container) before the swap is read
        await expect(page.locator("#recent-items")).to_contain_text("29H22222", timeout=15_000)
        cause = read("s-2", "29H22222", T0 + timedelta(seconds=40)) | {"container_numbers": [OTHER]}
        await publish(broker.bootstrap, ("hn-exp-gate-1", json.dumps(cause).encode()))
        held = page.locator('[data-alert][data-rule="swap"] .held')
        await expect(held).to_have_text(" · truck held", timeout=15_000)
        # its review item reads held, with the alert's reason (it read "matched")
        item = page.locator('[data-review][data-plate="29H22222"]')
        await expect(item.locator(".outcome")).to_have_text("held", timeout=15_000)
        await expect(item.locator(".held-by")).to_contain_text("held by risk alert swap: ")

        release = '[data-review][data-plate="29H22222"] [data-action="release"]'
        await act(page, release, "seal checked")
        await expect(held).to_have_text(
            " · truck released by ana at 10:00 (seal checked)", timeout=15_000
        )
