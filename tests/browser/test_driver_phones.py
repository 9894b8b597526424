"""The drivers' page as Vietnamese and Chinese truck drivers meet it: on a phone set to
another language than theirs, on a narrow screen with large text. Debian's chromium."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

import pytest
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from playwright.async_api import Browser

from lanes.board import Board
from lanes.policy.callforward import CallForwardPolicy
from services.db.driver_pages import BOOKING_PAGE
from services.drivers.hub import DriverHub
from services.drivers.store import HubPages
from services.drivers.view import booked_state, driver_states
from tests.browser.test_driver_page import HN, PHONE, T0, a_queue, serve

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


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
    page's links lived in the link alone (`?lang=vi`): the page opened again from the firm's
    link (the SMS carries none) was English again, and, the SMS being written in the language the
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
        # the firm's link, again, on the phone set to English
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
        # another phone, never having chosen: its own language, as before, which is no
        # choice: the SMS stay in the one chosen (since 2026-12-06 late: English)
        other = await browser.new_page(locale="en-US")
        await other.goto(f"{base}/d/{token}")
        assert await other.get_attribute("html", "lang") == "en"
        assert source.language[token] == "zh"


# Every element of a shown card that reaches past the card's inner edge, or past the screen
OVERFLOWING = """() => {
  const out = [];
  if (document.documentElement.scrollWidth > window.innerWidth) out.push("page");
  for (const card of document.querySelectorAll("section:not([hidden])")) {
    const edge = card.getBoundingClientRect().right - card.clientLeft;
    for (const el of card.querySelectorAll("*")) {
      if (el.offsetParent === null) continue;
      for (const box of el.getClientRects()) {
        if (box.right > edge + 0.5) out.push(el.id || el.tagName);
      }
    }
  }
  return out;
}"""


@pytest.mark.parametrize("locale", ["vi-VN", "zh-CN"])
async def test_a_320_px_phone_with_text_at_200_percent_cuts_nothing_off(
    browser: Browser, locale: str, shots: Path
) -> None:
    """A cheap phone 320 px wide, its text at 200% (as a page zoomed so: 160 CSS px). Before,
    the time to be at the gate, "10:15 (giờ địa phương tại cửa khẩu, UTC+07:00)", ran past
    its card's edge ("UTC+07:00)" has no place to break), and the lane's name, in 3rem
    type, broke in two lines ("HN-" above "E1"). Now long words break where they must, and
    the lane's name is sized to the screen and kept on one line."""
    hub = DriverHub(secret=b"test secret")
    queue, board = a_queue(4), Board.for_gate(HN)
    waiting = driver_states(queue, board, HN, now=T0)
    _, queue, board = CallForwardPolicy().step(queue, board, HN, now=T0)
    called = driver_states(queue, board, HN, now=T0)
    recalled = dict(called["visit-000"], status="recalled")
    hub.publish({"waiting": waiting["visit-003"], "called": called["visit-000"]})
    hub.publish({"recalled": recalled})
    # the booked slot with its zone (since 2026-12-06), "(giờ địa phương tại cửa khẩu, UTC+07:00)"
    start = T0.astimezone(timezone(HN.utc_offset))
    hub.publish({"booked": booked_state((start, start + timedelta(hours=1)))})
    async with serve(hub) as base:
        context = await browser.new_context(
            viewport={"width": 160, "height": 600}, is_mobile=True, has_touch=True, locale=locale
        )
        page = await context.new_page()
        for key in ("waiting", "called", "recalled", "booked"):
            await page.goto(f"{base}/d/{hub.token_for(key)}")
            await page.wait_for_function("(s) => document.body.dataset.status === s", arg=key)
            await page.screenshot(path=f"{shots}/driver-160px-{locale}-{key}.png", full_page=True)
            assert await page.evaluate(OVERFLOWING) == [], key
            if key in {"called", "recalled"}:
                place = await page.evaluate(
                    "() => { const p = document.getElementById('place');"
                    " return [p.getClientRects().length, p.textContent]; }"
                )
                assert place == [1, called["visit-000"]["lane_id"]]


async def test_a_code_typed_on_a_320_px_phone_with_text_at_200_percent_is_seen_whole(
    browser: Browser,
) -> None:
    """The form at /d on the same phone: before, the field showed 6 of the 8 characters
    typed (1.5rem type, spaced), so a driver could not check the code before sending it."""
    hub = DriverHub(secret=b"test secret")
    async with serve(hub) as base:
        context = await browser.new_context(
            viewport={"width": 160, "height": 600}, is_mobile=True, locale="vi-VN"
        )
        page = await context.new_page()
        await page.goto(f"{base}/d")
        await page.fill("#code", "AB12 CD34")
        seen = await page.evaluate(
            "() => { const f = document.getElementById('code');"
            " return [f.scrollWidth, f.clientWidth]; }"
        )
        assert seen[0] <= seen[1], seen
        assert await page.evaluate(OVERFLOWING.replace("section:not([hidden])", "form")) == []


class Plated(HubPages):
    """The hub's pages knowing each truck's plate (as the database's do: its manifest's)."""

    async def plates_of_code(self, code: str) -> tuple[str, frozenset[str]] | None:
        token = self.hub.token_of_code(code)
        return None if token is None else (token, frozenset({"29C12345"}))


async def test_a_driver_on_a_wifi_a_guesser_spent_opens_the_page_with_the_plate(
    browser: Browser, shots: Path
) -> None:
    """Ten wrong codes from the phone's address (a guesser on the waiting area's Wi-Fi, one
    address for all its phones): the driver's own code is refused, and the form asks for
    the truck's plate, its two fields and its words whole on the 320 px phone at 200% (in
    Vietnamese, the longer words); the code with the plate, typed as on the truck, opens the
    page (services/drivers/code_form.py; before, the driver could only wait)."""
    hub = DriverHub(secret=b"test secret")
    hub.publish({"v-1": {"status": "queued", "position": 1}})
    code = hub.code_for("v-1")
    async with serve(Plated(hub)) as base:
        context = await browser.new_context(
            viewport={"width": 160, "height": 600}, is_mobile=True, locale="vi-VN"
        )
        page = await context.new_page()
        for last in "23456789BC":
            missed = await page.request.get(f"{base}/d/c/ZZZZZZZ{last}")
            assert missed.status == 404
        refused = await page.goto(f"{base}/d?code={code}")
        assert refused is not None and refused.status == 429
        assert await page.input_value("#code") == code
        await page.screenshot(path=f"{shots}/driver-160px-vi-VN-plate.png", full_page=True)
        assert await page.evaluate(OVERFLOWING.replace("section:not([hidden])", "form")) == []
        await page.fill("#plate", "29c-123.45")
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/d/{hub.token_for('v-1')}")


class Booked(HubPages):
    """The hub's pages as a booking's (for its check-in button)."""

    async def page_key(self, token: str) -> str | None:
        visit_id = self.hub.visit_of(token)
        return None if visit_id is None else f"{BOOKING_PAGE}{visit_id}"


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("vi-VN", "Không báo có mặt được: hãy hỏi doanh nghiệp của bạn hoặc nhân viên bãi chờ."),
        ("zh-CN", "签到未成功：请联系您的公司或等候区工作人员。"),
    ],
)
async def test_a_check_in_refused_for_a_reason_the_page_has_no_words_for_is_told_in_its_language(
    browser: Browser, locale: str, said: str
) -> None:
    """A check-in refused other than for the booking's end (a gate with no waiting area for
    its direction, the booking gone, a server error): before, the page showed the API's
    detail, in English ("booking_id: gate 'x' has no waiting area for export: ...") or the
    bare status ("500"), on a page in Vietnamese or Chinese. It now says whom to ask, in
    the page's words."""
    hub = DriverHub(secret=b"test secret")
    hub.publish({"b-1": booked_state(None)})

    async def check_in(request: Request, booking_id: str) -> Response:
        return JSONResponse(
            {"type": "urn:borderflow:problem:booking-refused", "title": "Conflict",
             "status": 409, "detail": "booking_id: gate 'x' has no waiting area for export"},
            status_code=409,
            media_type="application/problem+json",
        )  # fmt: skip

    async with serve(Booked(hub), check_in=check_in) as base:
        page = await browser.new_page(locale=locale)
        await page.goto(f"{base}/d/{hub.token_for('b-1')}")
        await page.wait_for_function("() => document.body.dataset.status === 'booked'")
        await page.click("#check-in")
        await page.wait_for_function("() => !document.getElementById('check-in-result').hidden")
        shown = await page.inner_text("#check-in-result")
        assert shown == said and "gate" not in shown and "booking" not in shown
