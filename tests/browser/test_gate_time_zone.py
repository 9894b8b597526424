"""Every time on the control room is the gate's, whatever the browser's time zone, and the
page says which zone that is. Found by a tester as a lane controller with a browser set to
America/New_York, then Asia/Shanghai (a supervisor across the border): the times were the
gate's, but the header said only "gate time 23:00:00", and nothing on the page told which
zone that is (UTC+07:00 at Huu Nghi)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.test_control_room import log_in
from tests.browser.test_lane_hours import read_at_23h
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Shanghai"])
async def test_times_are_the_gates_with_its_zone_in_any_browser_zone(
    browser: Browser, tmp_path: Path, zone: str
) -> None:
    async with api_on_a_port(tmp_path, seed=read_at_23h) as port:
        context = await browser.new_context(
            timezone_id=zone, viewport={"width": 1280, "height": 720}
        )
        page = await context.new_page()
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        await expect(page.locator("#clock")).to_have_text("gate time 23:00:00")
        await expect(page.locator("#clock-zone")).to_have_text("UTC+07:00")
        item = page.locator('[data-review="v-29H30001"]')
        await expect(item).to_contain_text("· 23:00")  # decided at, the gate's
        await expect(item.locator(".waits")).to_have_attribute("title", "arrived 23:00 gate time")
        await context.close()
