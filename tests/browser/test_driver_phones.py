"""The drivers' page as Vietnamese and Chinese truck drivers meet it: on a phone set to
another language than theirs, on a narrow screen with large text. Debian's chromium."""

from __future__ import annotations

from playwright.async_api import Browser

from lanes.board import Board
from services.drivers.hub import DriverHub
from services.drivers.store import HubPages
from services.drivers.view import driver_states
from tests.browser.test_driver_page import HN, PHONE, T0, a_queue, serve


class Remembered(HubPages):
    """The hub's pages, keeping the language each page was last read in (as the database
    does, `driver_pages.language`: the one its SMS are written in)."""

    def __init__(self, hub: DriverHub) -> None:
        super().__init__(hub)
        self.language: dict[str, str] = {}

    async def remember_language(self, token: str, language: str) -> None:
        self.language[token] = language


async def test_a_language_chosen_on_the_page_outlasts_the_link(browser: Browser) -> None:
    """A Vietnamese driver's phone is set to English. Before, the language chosen with the
    page's links lived in the link alone (`?lang=vi`): the page opened again from the SMS's
    or the firm's link was English again, and, the SMS being written in the language the
    page was last read in, the next SMS came in English too. The choice is now kept by the
    phone (a cookie on /d) and beats Accept-Language; a link's `?lang=` still beats it."""
    hub = DriverHub(secret=b"test secret")
    hub.publish(driver_states(a_queue(3), Board.for_gate(HN), HN, now=T0))
    source = Remembered(hub)
    token = hub.token_for("visit-001")
    async with serve(source) as base:
        context = await browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US"
        )
        page = await context.new_page()
        await page.goto(f"{base}/d/{token}")
        assert await page.get_attribute("html", "lang") == "en"
        await page.click("a[hreflang=vi]")
        await page.wait_for_function("() => document.documentElement.lang === 'vi'")
        await page.reload()
        assert await page.get_attribute("html", "lang") == "vi"
        # the SMS's link, again, on the phone set to English
        await page.goto(f"{base}/d/{token}")
        assert await page.get_attribute("html", "lang") == "vi"
        await page.wait_for_function("() => document.getElementById('position').textContent")
        assert "Vị trí của bạn trong hàng chờ" in await page.inner_text("body")
        assert source.language[token] == "vi"
        # the form to type a code into, and the page for a wrong link, too
        await page.goto(f"{base}/d")
        assert await page.inner_text("h1") == "Mở trang xe của bạn"
        await page.goto(f"{base}/d/not-a-token")
        assert "Liên kết này không hợp lệ" in await page.inner_text("body")
        # a link's own language still wins, and becomes the one kept
        await page.goto(f"{base}/d/{token}?lang=zh")
        assert await page.get_attribute("html", "lang") == "zh"
        await page.goto(f"{base}/d/{token}")
        assert await page.get_attribute("html", "lang") == "zh"
        assert source.language[token] == "zh"
        # another phone, never having chosen: its own language, as before
        other = await browser.new_page(locale="en-US")
        await other.goto(f"{base}/d/{token}")
        assert await other.get_attribute("html", "lang") == "en"
