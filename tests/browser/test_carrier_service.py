"""A controller takes an autonomous carrier out of service from the carriers panel and puts
it back, in a real headless Chromium against a real system (embedded broker, decider and
lane-event workers, SQLite, the API on a TCP port): the button, the dialog with its reason,
and the panel showing the carrier out of service once the orchestrator applied the lane
event, then back. Until 2026-12-06 the panel showed carriers and offered no action."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.live import running_room
from tests.browser.test_control_room import act, log_in, send_read

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(120)]


async def test_a_carrier_is_taken_out_of_service_and_back_from_the_carriers_panel(
    browser: Browser, tmp_path: Path
) -> None:
    async with running_room(tmp_path) as (broker, _, base):
        page = await browser.new_page(viewport={"width": 1600, "height": 1000})
        await log_in(page, base, "ana")
        await send_read(broker.bootstrap, "r-1", "29H12345", 1)  # the gate's board
        row = page.locator('[data-carrier="AC-1"]')
        await expect(row).to_have_class("carrier", timeout=15_000)

        # the lane event reaches the room's feed as the orchestrator applies it; a
        # change that revises no decision shows by the room's refresh (10 s) at the
        # latest (docs/control-room.md), hence 15 s
        await act(page, '[data-carrier="AC-1"] [data-action="carrier_out"]', "lidar")
        await expect(row).to_have_class("carrier out", timeout=15_000)
        await expect(row).to_contain_text("out of service")
        await act(page, '[data-carrier="AC-1"] [data-action="carrier_back"]', "fixed")
        await expect(row).to_have_class("carrier", timeout=15_000)
        await expect(row.locator('[data-action="carrier_out"]')).to_be_enabled()
