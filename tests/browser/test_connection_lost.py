"""A request the page makes while the server cannot be reached (the API stopped or
restarting, the network down) says so. Found by a tester as a lane controller: with the
API stopped, Apply in the action's dialog and Log in did nothing visible (the page's fetch
failed with an uncaught "Failed to fetch"), so a controller could believe a lane closed
that was not. The connection is cut by the browser itself (Playwright aborts the request),
which is what the page meets when the server is gone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Route, expect

from tests.browser.live import PASSWORD
from tests.browser.test_control_room import log_in
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]

UNREACHABLE = "the server could not be reached (connection lost); nothing was done"


async def _cut(route: Route) -> None:
    await route.abort("connectionrefused")


async def test_an_action_or_a_login_that_cannot_reach_the_server_says_so(
    browser: Browser, tmp_path: Path
) -> None:
    async with api_on_a_port(tmp_path) as port:
        base = f"http://127.0.0.1:{port}"
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await log_in(page, base, "ana")
        lane = page.locator('[data-lane="HN-E1"]')

        await page.route("**/control/api/actions", _cut)
        await lane.locator('[data-action="close_lane"]').click()
        await page.fill("#confirm-reason", "crew short")
        await page.click("#confirm-ok")
        notice = page.locator("#notice")
        await expect(notice).to_contain_text("not applied: " + UNREACHABLE)
        await expect(notice).to_have_class("notice bad")
        await expect(lane.locator('[data-action="close_lane"]')).to_be_visible()  # still open

        await page.unroute("**/control/api/actions")  # back: the same action is applied
        await lane.locator('[data-action="close_lane"]').click()
        await page.fill("#confirm-reason", "crew short")
        await page.click("#confirm-ok")
        await expect(notice).to_contain_text(" closed (audit entry")
        await expect(notice).to_have_class("notice")

        other = await browser.new_page()
        other.on("pageerror", lambda e: errors.append(str(e)))
        await other.goto(f"{base}/control")
        await other.route("**/control/api/login", _cut)
        await other.fill("#login-user", "ana")
        await other.fill("#login-pass", PASSWORD)
        await other.click("#login-submit")
        await expect(other.locator("#login-error")).to_contain_text(UNREACHABLE)
        assert errors == [], errors
        await page.close()
        await other.close()
