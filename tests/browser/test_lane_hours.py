"""The board shows each lane's open hours (the gate file's `hours`), and a lane outside them
as closed by its hours, with when it opens, in gate time. Found by a tester: at 23:00 at Huu
Nghi the inspection bays (staffed 06:00-22:00) showed as "open" like the others, and no
lane said anything of its hours.

The gate's clock is the newest read: a visit last read at 23:00 local is written before the
API starts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from services.bootstrap import Infrastructure
from tests.browser.test_control_room import log_in
from tests.browser.test_review_order import in_review
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]

NIGHT = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 23:00 at Huu Nghi (UTC+07:00)


async def read_at_23h(infra: Infrastructure) -> None:
    async with infra.sessions() as session, session.begin():
        session.add_all(in_review("29H30001", arrived=NIGHT, decided=NIGHT, clock=NIGHT))


async def test_the_board_shows_lane_hours_and_closed_by_hours(
    browser: Browser, shots: Path, tmp_path: Path
) -> None:
    async with api_on_a_port(tmp_path, seed=read_at_23h) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        await expect(page.locator("#clock")).to_have_text("gate time 23:00:00")
        bay = page.locator('[data-lane="HN-E9"]')
        await expect(bay.locator(".hours")).to_have_text(
            "closed by hours (06:00-22:00) · opens 06:00"
        )
        await expect(bay).to_have_class("lane off-hours")
        standard = page.locator('[data-lane="HN-E1"]')
        await expect(standard.locator(".hours")).to_have_text("hours 24 h")
        await expect(standard).to_have_class("lane")
        await page.screenshot(path=str(shots / "control-room-lane-hours.png"))
        await page.close()
