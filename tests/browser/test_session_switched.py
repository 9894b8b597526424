"""Two tabs of one browser share its cookie. Found by a tester as lane controllers at a
shared desk: ana's tab stayed open while bob logged in in another tab; ana's tab went on
saying "ana (controller)" and every action it sent was refused with "X-CSRF-Token: missing
or wrong" (the browser sent bob's cookie with ana's token), which says nothing of why. Now
the page takes the browser's session, shows who it is, and says that nothing was done."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.live import PASSWORD
from tests.browser.test_control_room import log_in
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]


async def test_a_tab_whose_browser_logged_in_as_someone_else_says_so(
    browser: Browser, tmp_path: Path
) -> None:
    async with api_on_a_port(tmp_path) as port:
        base = f"http://127.0.0.1:{port}"
        context = await browser.new_context(viewport={"width": 1280, "height": 720})
        page = await context.new_page()
        await log_in(page, base, "ana")
        await expect(page.locator("#who-name")).to_have_text("ana")
        # another tab of this browser logs in as the viewer vic: the cookie is vic's now
        other = await context.request.post(
            f"{base}/control/api/login", data={"username": "vic", "password": PASSWORD}
        )
        assert other.ok

        await page.locator("[data-lane='HN-E2'] [data-action='close_lane']").click()
        await page.fill("#confirm-reason", "crew short")
        await page.click("#confirm-ok")
        notice = page.locator("#notice")
        await expect(notice).to_contain_text(
            "another tab of this browser logged in as vic (this page was ana's); the page now"
            " shows that session. Nothing was done"
        )
        await expect(page.locator("#who-name")).to_have_text("vic")
        await expect(page.locator("#who-role")).to_have_text("(viewer)")
        await expect(
            page.locator("[data-lane='HN-E2'] [data-action='close_lane']")
        ).to_be_disabled()
        await context.close()
