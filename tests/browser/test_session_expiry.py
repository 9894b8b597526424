"""A control-room session ends 12 hours after login: the page says when, warns 15 minutes
before without blocking anything, logs in again in a small dialog without leaving the page
(an action's dialog and its text stay), and a reason half-typed when the session ends anyway
comes back after the login. Found by a tester as a lane controller: the session ended with
no warning, and the reason typed in a lane's closure was dropped with the room (8fe5651).

The browser's clock is Playwright's (set years off the server's, in UTC): the page reckons
the time left from the server's `Date` header and `expires_at`, so no test depends on
today's date or the wall clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from streams import clock
from tests.browser.live import PASSWORD
from tests.browser.test_session_ended import _log_in
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]

CLOSE_E2 = "[data-lane='HN-E2'] [data-action='close_lane']"


async def _room(browser: Browser, base: str) -> Page:
    context = await browser.new_context(timezone_id="UTC")
    page = await context.new_page()
    # the browser's clock 4 years off the server's: the page must not trust it alone
    await page.clock.install(time=datetime(2030, 3, 1, 8, 0, tzinfo=UTC))
    await _log_in(page, base)
    return page


async def test_the_session_end_is_shown_and_warned_of_and_a_new_login_keeps_the_dialog(
    browser: Browser, tmp_path: Path
) -> None:
    async with api_on_a_port(tmp_path) as port:
        base = f"http://127.0.0.1:{port}"
        page = await _room(browser, base)
        # 12 h after the login, in the browser's own clock (08:00 there)
        await expect(page.locator("#session-until")).to_have_text("session until 20:00")
        await expect(page.locator("#session-warning")).to_be_hidden()

        await page.locator(CLOSE_E2).click()
        await expect(page.locator("#confirm")).to_be_visible()
        await page.fill("#confirm-reason", "crew short at E2")
        await expect(page.locator("#confirm-session")).to_be_hidden()
        await page.clock.fast_forward("11:46:30")  # 13.5 min left, less the seconds run
        warning = "Your session ends in 14 min: log in again to continue"
        await expect(page.locator("#confirm-session-text")).to_have_text(warning)
        await expect(page.locator("#session-warning-text")).to_have_text(warning)

        await page.locator("#confirm-session [data-relogin]").click()
        await expect(page.locator("#relogin")).to_be_visible()
        await expect(page.locator("#relogin-user")).to_have_value("ana")
        await page.fill("#relogin-pass", PASSWORD)
        await page.click("#relogin-submit")
        await expect(page.locator("#relogin")).to_be_hidden()
        # the action's dialog is still open, its text as typed; the warning gone
        await expect(page.locator("#confirm")).to_be_visible()
        await expect(page.locator("#confirm-reason")).to_have_value("crew short at E2")
        await expect(page.locator("#confirm-session")).to_be_hidden()
        await expect(page.locator("#session-warning")).to_be_hidden()
        await expect(page.locator("#session-until")).to_have_text("session until 07:46")
        # and the action goes through with the new session (its CSRF token)
        await page.click("#confirm-ok")
        await expect(page.locator("#notice")).to_have_text(
            re.compile(r"^Lane HN-E2 closed \(audit entry \d+\)$"), timeout=10000
        )
        await page.context.close()


async def test_a_reason_typed_when_the_session_ends_comes_back_after_the_login(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ahead = [timedelta(0)]  # the server's clock (served in this process), moved on below
    monkeypatch.setattr(clock, "wall_clock", lambda: datetime.now(UTC) + ahead[0])
    async with api_on_a_port(tmp_path) as port:
        base = f"http://127.0.0.1:{port}"
        page = await _room(browser, base)
        await page.locator(CLOSE_E2).click()
        await page.fill("#confirm-reason", "crew short at E2")
        # the session expires under the page: 12 h and a minute later on the server's clock
        ahead[0] = timedelta(hours=12, minutes=1)
        await expect(page.locator("#login")).to_be_visible(timeout=30000)
        await expect(page.locator("#confirm")).to_be_hidden()

        await page.fill("#login-user", "ana")
        await page.fill("#login-pass", PASSWORD)
        await page.click("#login-submit")
        await expect(page.locator("#confirm")).to_be_visible(timeout=10000)
        await expect(page.locator("#confirm-text")).to_have_text("Close lane HN-E2")
        await expect(page.locator("#confirm-reason")).to_have_value("crew short at E2")
        await expect(page.locator("#notice")).to_contain_text("the close lane dialog is back")
        kept = await page.evaluate("JSON.stringify(Object.assign({}, sessionStorage))")
        assert PASSWORD not in kept and "crew short" not in kept  # taken back, never the password
        await page.context.close()


async def test_a_kept_reason_whose_target_is_gone_is_quoted_not_lost(
    browser: Browser, tmp_path: Path
) -> None:
    """The draft kept by a tab names a lane the board no longer has (written into the tab's
    sessionStorage as the page keeps it): no dialog on another target, the text quoted."""
    async with api_on_a_port(tmp_path) as port:
        base = f"http://127.0.0.1:{port}"
        page = await _room(browser, base)
        await page.locator(CLOSE_E2).click()
        await page.fill("#confirm-reason", "crew short at Q9")
        ended = await page.context.request.post(f"{base}/control/api/logout")
        assert ended.status == 204
        await expect(page.locator("#login")).to_be_visible(timeout=30000)
        await page.evaluate(
            """() => { const k = "borderflow.control.draft";
              const d = JSON.parse(sessionStorage.getItem(k));
              d.fields.lane_id = "HN-Q9"; d.title = "Close lane HN-Q9";
              sessionStorage.setItem(k, JSON.stringify(d)); state.draft = null; }"""
        )
        await page.fill("#login-user", "ana")
        await page.fill("#login-pass", PASSWORD)
        await page.click("#login-submit")
        await expect(page.locator("#notice")).to_have_text(
            "your session had ended while you wrote: Close lane HN-Q9 is gone or already"
            " done; what you typed: crew short at Q9",
            timeout=10000,
        )
        await expect(page.locator("#confirm")).to_be_hidden()
        await page.context.close()
