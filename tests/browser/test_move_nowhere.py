"""The "Move…" dialog of a truck no other open lane takes offers nothing to apply. Found by a
tester as a lane controller: the dialog said "no other open lane takes it" above an empty
lane list, and Apply was still offered: pressing it sent no lane and earned
"refused (422)". Now Apply is disabled there, and enabled again in the next dialog.

The truck is put on the board by the test (what a snapshot with a queued truck whose
`moves_to` is empty draws), so no decider has to queue one."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.test_control_room import log_in
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]

QUEUE = """(moves) => {
  const lane = state.snap.lanes.find((l) => l.lane_id === "HN-E12");
  lane.trucks = [{visit_id: "v-haz", plate: "29H77777", manifest_id: "M-1", firm_id: "f",
    perishable: false, hazmat: "3", containers: 1, channel: "green", in_service: false,
    arrived_at: state.snap.as_of, expected_start_at: state.snap.as_of,
    expected_done_at: state.snap.as_of, service_min: 6, reason: "hazmat", moves_to: moves}];
  render();
}"""


async def test_a_move_with_no_lane_to_go_to_cannot_be_applied(
    browser: Browser, tmp_path: Path
) -> None:
    async with api_on_a_port(tmp_path) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        await page.evaluate(QUEUE, [])
        truck = page.locator('[data-visit="v-haz"]')
        await truck.locator('[data-action="reassign"]').click()
        await expect(page.locator("#confirm-text")).to_have_text(
            "Move 29H77777 from HN-E12: no other open lane takes it"
        )
        await expect(page.locator("#confirm-ok")).to_be_disabled()
        await page.click("#confirm-cancel")

        await page.evaluate(QUEUE, ["HN-E1"])  # somewhere to go: Apply again
        await truck.locator('[data-action="reassign"]').click()
        await expect(page.locator("#confirm-lane option")).to_have_text(["HN-E1 (standard)"])
        await expect(page.locator("#confirm-ok")).to_be_enabled()
        await page.close()
