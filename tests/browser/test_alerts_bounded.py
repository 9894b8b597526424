"""The risk-alerts panel stays bounded on the controllers' 1280x720 screen. Found by a
tester: with thirty alerts the panel, first on the page, filled the whole screen and the
lanes were below it. Now its list scrolls inside a bounded height, the board's first lanes
are on the screen, and "Hide" folds the panel to its heading (its count still shown).

The page is handed a snapshot with thirty alerts (what the server sends on a busy day) and
draws it (`render()`, what each state and patch does); a screenshot is kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.test_control_room import log_in
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]

ALERTS = """Array.from({length: 30}, (_, i) => ({alert_id: "al-" + i, rule: "overweight",
  severity: i % 3 ? "medium" : "high", status: "open", subject: "manifest:MF-" + i,
  raised_at: "2026-11-23T03:00:00Z", age_s: 60 * i, hold: true, held_visit_id: null,
  explanation: "29H12345 weighed 40,000 kg at wim-1, 33% over the 30,000 kg declared",
  evidence: ["w-" + i, "MF-" + i]}))"""


async def test_the_alerts_panel_leaves_the_board_on_a_1280x720_screen(
    browser: Browser, shots: Path, tmp_path: Path
) -> None:
    async with api_on_a_port(tmp_path) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        await page.evaluate(f"state.snap.alerts = {ALERTS}")
        await page.evaluate("state.snap.alert_counts = {open: 30, total: 30}")
        await page.evaluate("render()")
        await expect(page.locator("[data-alert]")).to_have_count(30)
        await expect(page.locator("#alert-count")).to_have_text("(30 open of 30)")

        panel = await page.locator("#alerts").bounding_box()
        first_lane = await page.locator("[data-lane]").first.bounding_box()
        assert panel is not None and first_lane is not None
        assert panel["height"] <= 720 / 3, panel  # a third of the screen at most
        assert first_lane["y"] + first_lane["height"] <= 720, first_lane  # on the screen
        # the list scrolls inside the panel: the last alert is reachable there
        items = page.locator("#alert-items")
        assert await items.evaluate("e => e.scrollHeight > e.clientHeight")
        await page.locator("[data-alert]").last.scroll_into_view_if_needed()
        await expect(page.locator("[data-alert]").last).to_be_in_viewport()
        await page.screenshot(path=str(shots / "control-room-alerts-bounded.png"))

        toggle = page.locator("#alerts-toggle")
        await toggle.click()  # folded to its heading
        await expect(items).to_be_hidden()
        await expect(toggle).to_have_attribute("aria-expanded", "false")
        await expect(page.locator("#alert-count")).to_have_text("(30 open of 30)")
        await page.evaluate("render()")  # an update does not unfold it
        await expect(items).to_be_hidden()
        await toggle.click()
        await expect(items).to_be_visible()
        await page.close()
