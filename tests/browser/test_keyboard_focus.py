"""A control-room button reached with the keyboard keeps the focus when the room is drawn
again. Found by a stranger's try as a lane controller: the page draws every panel afresh on
each state or patch from its stream (several a second at a busy gate), and the focused
button went with its old panel, so the focus fell back to the page and Tab started over at
its top: a controller tabbing to "Close lane" or "Hold" could not press it. And Enter in the
dialog's reason field cancelled the action: the form's first submit button was Cancel.

The test draws the room again itself (`render()`, what each state and patch does), so it
does not wait on the stream's timing."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from services.bootstrap import Infrastructure
from tests.browser.live import PASSWORD
from tests.browser.test_alerts_most_urgent import T0, alert_row
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]

FOCUSED = """() => {
  const e = document.activeElement;
  const lane = e.closest("[data-lane]");
  return [e.tagName, lane ? lane.dataset.lane : null, e.dataset.action || null];
}"""


async def test_the_focused_button_keeps_the_focus_when_the_room_is_drawn_again(
    browser: Browser, tmp_path: Path
) -> None:
    async with api_on_a_port(tmp_path) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await page.goto(f"http://127.0.0.1:{port}/control")
        await page.fill("#login-user", "ana")
        await page.fill("#login-pass", PASSWORD)
        await page.press("#login-pass", "Enter")
        await expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=10000)

        button = page.locator("[data-lane='HN-E3'] [data-action='close_lane']")
        await button.focus()
        assert await page.evaluate(FOCUSED) == ["BUTTON", "HN-E3", "close_lane"]
        await page.evaluate("render()")  # what each state or patch from the stream does
        assert await page.evaluate(FOCUSED) == ["BUTTON", "HN-E3", "close_lane"]

        # Tab goes on from there, and Enter presses the button the controller is on
        await page.keyboard.press("Tab")
        await page.evaluate("render()")
        assert await page.evaluate(FOCUSED) == ["BUTTON", "HN-E4", "close_lane"]
        await page.keyboard.press("Enter")
        await expect(page.locator("#confirm")).to_be_visible()
        await expect(page.locator("#confirm-text")).to_have_text("Close lane HN-E4")
        # the reason typed, Enter applies it (it was the first button's: Cancel, silently)
        await page.keyboard.type("bay crew short")
        await page.keyboard.press("Enter")
        await expect(page.locator("#notice")).to_contain_text(" closed (audit entry", timeout=10000)
        # and Cancel still cancels: no action is sent
        sent: list[str] = []
        page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
        await page.locator("[data-lane='HN-E5'] [data-action='close_lane']").click()
        await page.fill("#confirm-reason", "not this one")
        await page.click("#confirm-cancel")
        await expect(page.locator("#confirm")).to_be_hidden()
        await page.wait_for_timeout(300)
        assert sent == []
        await page.close()


async def test_after_an_actions_dialog_the_focus_is_back_on_its_lane(
    browser: Browser, tmp_path: Path
) -> None:
    """Found as a keyboard-only controller: after Enter applied a lane's closure, the focus
    fell to the page (the button that opened the dialog had been drawn again meanwhile, and
    once the lane closed its "Close lane" was an "Open lane"), so Tab started over at the
    top. Now it is back on the same lane's button, whatever was drawn meanwhile. (This
    system has no lane-event worker: the lane closes when the test draws it closed.)"""
    async with api_on_a_port(tmp_path) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await page.goto(f"http://127.0.0.1:{port}/control")
        await page.fill("#login-user", "ana")
        await page.fill("#login-pass", PASSWORD)
        await page.press("#login-pass", "Enter")
        await expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=10000)
        lane = page.locator("[data-lane='HN-E6']")

        await lane.locator("[data-action='close_lane']").focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("#confirm")).to_be_visible()
        await page.evaluate("render()")  # an update under the dialog: its opener drawn again
        await page.keyboard.type("bay crew short")
        await page.keyboard.press("Enter")
        await expect(page.locator("#notice")).to_contain_text(" closed (audit entry", timeout=10000)
        await expect(lane.locator("[data-action='close_lane']")).to_be_focused()

        # the lane drawn closed (what the stream's patch does once the closure is applied):
        # its button is now "Open lane", and it has the focus
        await page.evaluate(
            "state.snap.lanes.find((l) => l.lane_id === 'HN-E6').is_open = false; render()"
        )
        await expect(lane.locator("[data-action='open_lane']")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.locator("#confirm-text")).to_have_text("Open lane HN-E6")

        await page.evaluate("render()")  # Escape: back on it too
        await page.keyboard.press("Escape")
        await expect(page.locator("#confirm")).to_be_hidden()
        await expect(lane.locator("[data-action='open_lane']")).to_be_focused()
        await page.close()


async def _an_open_alert(infra: Infrastructure) -> None:
    async with infra.sessions() as session, session.begin():
        session.add(alert_row("al-kbd", severity="high", status="open", raised_at=T0))


async def test_after_acknowledging_an_alert_by_keyboard_the_focus_stays_on_it(
    browser: Browser, tmp_path: Path
) -> None:
    """The alert acknowledged, its Acknowledge is disabled and can take no focus: the focus
    goes to the same alert (its summary), not to the page."""
    async with api_on_a_port(tmp_path, seed=_an_open_alert) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await page.goto(f"http://127.0.0.1:{port}/control")
        await page.fill("#login-user", "ana")
        await page.fill("#login-pass", PASSWORD)
        await page.press("#login-pass", "Enter")
        alert = page.locator('[data-alert="al-kbd"]')
        await alert.locator("summary").focus()
        await page.keyboard.press("Enter")  # open it
        acknowledge = alert.locator('[data-alert-action="acknowledge"]')
        await acknowledge.focus()
        await page.keyboard.press("Enter")
        await page.keyboard.type("seen on camera")
        await page.keyboard.press("Enter")
        await expect(page.locator("#notice")).to_contain_text("Alert acknowledged:", timeout=10000)
        await expect(alert).to_have_attribute("data-status", "acknowledged", timeout=10000)
        await expect(acknowledge).to_be_disabled()
        await expect(alert.locator("summary")).to_be_focused()
        await page.close()
