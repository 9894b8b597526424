"""The notice after an alert's acknowledgement, escalation or dismissal names the alert as
the panel does ("cloned plate"), not by its rule's code. Found by a tester as a lane
controller: the panel and the dialog said "lost truck", the notice
"done: acknowledge lost_truck (audit entry 9)". A refused action or alert change says what
was not done and the server's reason ("refused (409): ..." until 2026-12-06)."""

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
        await expect(alert).to_have_count(0)  # dismissed: off the panel, nothing more to come

        # a refusal says what was not done and the server's reason, in words: it said
        # "refused (409): ...", the HTTP status first. The page is handed what another
        # controller's change or a stale screen shows (the alert as open, a truck gone, a
        # lane as closed) and each action is refused by the real server
        await page.evaluate(STALE)
        refusals = [
            (
                '[data-alert="al-cloned"] [data-alert-action="acknowledge"]',
                None,
                "Alert not acknowledged: cloned plate: alert_id: al-cloned is closed (dismissed)",
            ),
            (
                '[data-alert="al-gone"] [data-alert-action="escalate"]',
                None,
                "Alert not escalated: cloned plate: alert_id: no alert 'al-gone'",
            ),
            (
                '[data-lane="HN-E1"] [data-action="open_lane"]',
                None,
                "Lane HN-E1 not opened: lane_id: HN-E1 is already open",
            ),
            (
                '[data-review="v-gone"] [data-action="turn_away"]',
                None,
                "Truck not turned away: visit_id: no decided visit 'v-gone' at gate 'huu-nghi'",
            ),
            (
                '[data-review="v-gone"] [data-action="confirm_plate"]',
                "",
                "Plate not confirmed: plate: required for confirm_plate",
            ),
        ]
        notice = page.locator("#notice")
        for button, plate, said in refusals:
            await page.locator(f"{button} >> visible=true").first.click()
            if plate is not None:
                await page.fill("#confirm-plate", plate)
            await page.fill("#confirm-reason", "testing the refusals")
            await page.click("#confirm-ok")
            await expect(notice).to_have_text(said)
            await expect(notice).to_have_class("notice bad")
        await page.close()


# what a screen a moment stale shows: the dismissed alert as open, an alert gone since, a
# truck in review gone since, the open lane HN-E1 as closed
STALE = """() => {
  const a = {alert_id: "al-cloned", rule: "cloned_plate", severity: "high", status: "open",
    subject: "plate:29H12345", explanation: "seen twice", raised_at: state.snap.as_of,
    evidence: [], hold: false, held_visit_id: null, released_by: null};
  state.snap.alerts = [a, Object.assign({}, a, {alert_id: "al-gone"})];
  state.snap.alert_counts = {open: 2, total: 2};
  state.snap.review = [{visit_id: "v-gone", plate: "29H12345", match_outcome: "unknown",
    match_score: 0, decided_at: state.snap.as_of, arrived_at: state.snap.as_of,
    reason: "no manifest", candidates: [], reads: [], manifest_id: null, held_by: []}];
  state.snap.needs_review = 1;
  state.snap.lanes.find((l) => l.lane_id === "HN-E1").is_open = false;
  state.openAlerts.add("al-cloned"); state.openAlerts.add("al-gone");
  render();
}"""
