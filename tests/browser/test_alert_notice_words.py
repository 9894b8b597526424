"""The notice after an alert's acknowledgement, escalation or dismissal names the alert as
the panel does ("cloned plate"), not by its rule's code. Found by a tester as a lane
controller: the panel and the dialog said "lost truck", the notice
"done: acknowledge lost_truck (audit entry 9)"."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from services.bootstrap import Infrastructure
from tests.browser.test_alerts_most_urgent import alert_row
from tests.browser.test_control_room import log_in
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
# the notice says what was done in words ("done: acknowledge ..." until 2026-12-06)
DONE = {"acknowledge": "acknowledged", "escalate": "escalated", "dismiss": "dismissed"}


async def a_cloned_plate(infra: Infrastructure) -> None:
    async with infra.sessions() as session, session.begin():
        session.add(alert_row("al-cloned", severity="high", status="open", raised_at=T0))


async def test_the_notice_names_the_alert_as_the_panel_does(
    browser: Browser, tmp_path: Path
) -> None:
    async with api_on_a_port(tmp_path, seed=a_cloned_plate) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        alert = page.locator('[data-alert="al-cloned"]')
        await expect(alert.locator("summary")).to_contain_text("cloned plate")
        await alert.locator("summary").click()
        for action in ("acknowledge", "escalate", "dismiss"):
            await page.locator(f'[data-alert="al-cloned"] [data-alert-action="{action}"]').click()
            await expect(page.locator("#confirm-text")).to_contain_text("cloned plate")
            await page.fill("#confirm-reason", f"{action} it, checked")
            await page.click("#confirm-ok")
            notice = page.locator("#notice")
            await expect(notice).to_contain_text(f"Alert {DONE[action]}: cloned plate (audit entry")
            await expect(notice).not_to_contain_text("cloned_plate")
            if action != "dismiss":
                await expect(alert).to_have_attribute(
                    "data-status", "acknowledged" if action == "acknowledge" else "escalated"
                )
        await page.close()
