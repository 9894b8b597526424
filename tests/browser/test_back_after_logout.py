"""After logging out, the browser's Back and Forward show nothing of the session. Found by a
tester as a lane controller at a shared desk: after "Log out", Forward to `/v1/queue` showed
the gate-wide queue (every firm's trucks and plates) from the browser's cache, and Back to
the control room showed the room again (its `me`, with the CSRF token, came from the cache),
then said "Your session has ended" though it was logged out on purpose. The session's
answers are now `Cache-Control: no-store`."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.test_control_room import log_in
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]


async def test_back_and_forward_after_a_logout_show_nothing_of_the_session(
    browser: Browser, tmp_path: Path
) -> None:
    async with api_on_a_port(tmp_path) as port:
        base = f"http://127.0.0.1:{port}"
        context = await browser.new_context(viewport={"width": 1280, "height": 720})
        page = await context.new_page()
        await log_in(page, base, "ana")
        await page.goto(f"{base}/v1/queue")
        await expect(page.locator("body")).to_contain_text('"lanes"')
        await page.go_back()
        await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        await page.click("#logout")
        await expect(page.locator("#login")).to_be_visible()
        assert await context.cookies() == []

        await page.go_forward()  # the gate-wide view again: refused, not the cached copy
        await expect(page.locator("body")).to_contain_text('"status":401')
        await expect(page.locator("body")).not_to_contain_text('"lanes"')
        await page.go_back()  # the room: the login, as after a logout
        await expect(page.locator("#login")).to_be_visible()
        await expect(page.locator("#login-error")).to_have_text("")
        await expect(page.locator("#room")).to_be_hidden()
        await context.close()
