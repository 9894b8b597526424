"""A controller logged in to the control room in Chromium reads the gate-wide staff views
`/v1/queue` and `/v1/review` from the same browser, and logging out on the page closes them
again (issue 17: the session cookie was set for `/control` only, so Chromium never sent it
to `/v1`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.live import PASSWORD
from tests.integration.test_staff_cookie import STAFF_VIEWS, api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]


async def test_a_logged_in_browser_reads_the_staff_views(browser: Browser, tmp_path: Path) -> None:
    async with api_on_a_port(tmp_path) as port:
        base = f"http://127.0.0.1:{port}"
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(f"{base}/control")
        await page.fill("#login-user", "vic")
        await page.fill("#login-pass", PASSWORD)
        await page.click("#login-submit")
        await expect(page.locator("#who-name")).to_have_text("vic", timeout=5000)
        assert await page.evaluate("document.cookie") == ""  # HttpOnly: no script reads it

        for path in STAFF_VIEWS:
            fetched = await page.evaluate(f"fetch('{path}').then(r => r.status)")
            assert fetched == 200, path
            tab = await context.new_page()  # typed into the address bar
            answer = await tab.goto(f"{base}{path}")
            assert answer is not None and answer.status == 200, path
            await tab.close()

        await page.click("#logout")
        await expect(page.locator("#who")).to_be_hidden(timeout=5000)
        for path in STAFF_VIEWS:
            assert await page.evaluate(f"fetch('{path}').then(r => r.status)") == 401, path
        await context.close()  # its event stream with it, before the server stops
