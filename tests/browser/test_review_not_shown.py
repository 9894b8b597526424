"""The review queue says how many of its visits it does not list. Found by a stranger's try
as a lane controller on a demo day: the panel's heading said "Review queue (344)" and "need
review 344", and it listed 50 visits (the snapshot's newest 50) with nothing after the
50th, so the 294 older visits, those waiting longest, were nowhere and nothing said so. (The
snapshot now holds the 50 waiting longest: tests/browser/test_review_order.py.)

The test hands the page a snapshot with fewer review items than visits in review (what the
server sends past 50) and draws it (`render()`, what each state and patch does)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.test_control_room import log_in
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]

ITEM = """{visit_id: "v-1", plate: "29H12345", match_outcome: "unknown", match_score: 0,
  decided_at: "2026-11-23T03:00:00Z", arrived_at: "2026-11-23T02:58:00Z",
  reason: "no manifest for plate 29H12345", candidates: [], reads: [], manifest_id: null}"""


async def test_the_review_queue_says_how_many_visits_it_does_not_list(
    browser: Browser, tmp_path: Path
) -> None:
    async with api_on_a_port(tmp_path) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        await expect(page.locator("#review-more")).to_have_count(0)  # none in review

        await page.evaluate(f"state.snap.review = [{ITEM}]; state.snap.needs_review = 344")
        await page.evaluate("render()")
        await expect(page.locator("#review-count")).to_have_text("(344)")
        await expect(page.locator("[data-review]")).to_have_count(1)
        await expect(page.locator("#review-more")).to_have_text(
            "The 1 waiting longest are listed; 343 newer visits in review are not "
            "(GET /v1/review pages through them all)."
        )

        await page.evaluate("state.snap.needs_review = 1")  # all listed: nothing said
        await page.evaluate("render()")
        await expect(page.locator("#review-more")).to_have_count(0)
        await page.close()
