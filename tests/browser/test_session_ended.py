"""A control-room page whose session ends under it (logged out in another tab, expired) goes
back to the login, says why, and stops asking the server for what it may no longer read.
Found by a stranger's try: the page showed a bare login form and went on polling the
waiting area and reopening the cross-border stream, refused (401) more than once a second,
for as long as the tab stayed open."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.live import PASSWORD
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]


async def _log_in(page: Page, base: str) -> None:
    await page.goto(f"{base}/control")
    await page.fill("#login-user", "ana")
    await page.fill("#login-pass", PASSWORD)
    await page.click("#login-submit")
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=10000)


async def test_a_page_logged_out_elsewhere_says_so_and_stops_asking(
    browser: Browser, tmp_path: Path
) -> None:
    async with api_on_a_port(tmp_path) as port:
        base = f"http://127.0.0.1:{port}"
        context = await browser.new_context()
        page = await context.new_page()
        await _log_in(page, base)
        other = await context.new_page()  # a second tab of the same browser
        await other.goto(f"{base}/control")
        await other.click("#logout")
        await expect(other.locator("#login")).to_be_visible(timeout=10000)
        await expect(other.locator("#login-error")).to_have_text("")  # logged out on purpose

        # the first tab learns of it from its stream (checked every 5 s) or its next request
        await expect(page.locator("#login")).to_be_visible(timeout=30000)
        await expect(page.locator("#login-error")).to_have_text(
            "Your session has ended (expired, or logged out in another tab). Log in again.",
            timeout=5000,
        )
        # and nothing of the room is asked for any more: the login page holds no account
        assert await page.evaluate("state.me === null && state.source === null")
        refused: list[str] = []
        page.on("response", lambda r: refused.append(r.url) if r.status == 401 else None)
        await page.fill("#login-user", "ana")  # the same page logs in again and is live
        await page.fill("#login-pass", PASSWORD)
        await page.click("#login-submit")
        await expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=10000)
        await expect(page.locator("#login-error")).to_have_text("")
        assert refused == [], refused
        await context.close()


async def test_an_actions_dialog_open_when_the_session_ends_goes_with_the_room(
    browser: Browser, tmp_path: Path
) -> None:
    """Found as a lane controller whose session expired while the dialog of a lane's
    closure was open: the page went back to the login behind it, and the dialog stayed on
    top of the login, its Apply bound to be refused."""
    async with api_on_a_port(tmp_path) as port:
        base = f"http://127.0.0.1:{port}"
        context = await browser.new_context()
        page = await context.new_page()
        await _log_in(page, base)
        await page.locator("[data-lane='HN-E2'] [data-action='close_lane']").click()
        await expect(page.locator("#confirm")).to_be_visible()
        await page.fill("#confirm-reason", "half typed")
        logout = await context.request.post(f"{base}/control/api/logout")  # the same cookie
        assert logout.status == 204
        await expect(page.locator("#login")).to_be_visible(timeout=30000)
        await expect(page.locator("#confirm")).to_be_hidden()
        await expect(page.locator("#login-user")).to_be_visible()  # usable: nothing above it
        await page.fill("#login-user", "ana")
        await context.close()
