"""A waiting-area row on a 1280x720 screen keeps its parts apart. Found by a tester as a lane
controller: a truck called to a carrier slot read "P7VEXKSQcalled to carrier slot AC-4@07:11,
due 07:06", the driver's page code run into the call (the row's parts had no gap between
them). The panel's data is the server's answer, given by the test (`page.route`), so the
row does not wait on the call-forward worker."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from playwright.async_api import Browser, Route, expect

from tests.browser.test_control_room import log_in
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]

AREA = {
    "gate_id": "huu-nghi",
    "trucks": [
        {
            "visit_id": "wa-1",
            "plate": "桂Y16426",
            "direction": "import",
            "short_code": "P7VEXKSQ",
            "position": None,
            "entered_at": "2026-11-23T00:01:00Z",
            "call": {
                "kind": "call",
                "lane_id": None,
                "carrier_slot": "AC-4@07:11",
                "due_at": "2026-11-23T00:06:00Z",
            },
        }
    ],
}


async def _area(route: Route) -> None:
    await route.fulfill(status=200, content_type="application/json", body=json.dumps(AREA))


async def test_a_waiting_rows_code_and_call_do_not_run_together(
    browser: Browser, tmp_path: Path
) -> None:
    async with api_on_a_port(tmp_path) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await page.route("**/v1/waiting-area*", _area)
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        row = page.locator('[data-waiting="wa-1"]')
        await expect(row).to_contain_text("called to carrier slot AC-4@07:11")
        parts = [await s.bounding_box() for s in await row.locator("span").all()]
        assert len(parts) == 3 and all(parts)
        for left, right in itertools.pairwise(parts):
            assert left is not None and right is not None
            same_line = abs(left["y"] - right["y"]) < left["height"] / 2
            if same_line:  # apart by a gap, as words are
                assert right["x"] - (left["x"] + left["width"]) >= 4, (left, right)
        await page.close()
