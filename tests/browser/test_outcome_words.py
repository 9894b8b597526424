"""The control room writes a decision's outcome in words, as it writes an alert's rule:
"not cleared", "needs review", not the codes `not_cleared` and `needs_review`. Found by a
tester as a lane controller on a demo day: the review queue's items read "99H10823
not_cleared" and the latest decisions "21:26:22 桂Z36673 needs_review".

The test hands the page a snapshot with such an item and decision and draws it (`render()`,
what each state and patch does)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.test_control_room import log_in
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]

ITEM = """{visit_id: "v-1", plate: "29H12345", match_outcome: "not_cleared", match_score: 1,
  decided_at: "2026-11-23T03:00:00Z", arrived_at: "2026-11-23T02:58:00Z",
  reason: "customs status pending", candidates: [], reads: [], manifest_id: null}"""
RECENT = """{visit_id: "v-1", plate: "29H12345", outcome: "needs_review", place: null,
  decided_at: "2026-11-23T03:00:00Z"}"""


async def test_outcomes_are_written_in_words(browser: Browser, tmp_path: Path) -> None:
    async with api_on_a_port(tmp_path) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        await page.evaluate(
            f"state.snap.review = [{ITEM}]; state.snap.needs_review = 1;"
            f" state.snap.recent = [{RECENT}]"
        )
        await page.evaluate("render()")
        await expect(page.locator('[data-review="v-1"] .outcome')).to_have_text("not cleared")
        await expect(page.locator('[data-recent="v-1"]')).to_contain_text("needs review")
        await expect(page.locator("#room")).not_to_contain_text("_")
        await page.close()
