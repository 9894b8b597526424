"""On a wall screen the lanes share the width. Found by a tester as a lane controller on a
2560 px wall screen: a direction's 12 lanes took 7.4rem columns each, about 1,500 px,
and left the right 1,000 px of the board blank while each lane's text wrapped over three
lines. Now a direction's lanes fill one row when the screen is wide enough, and on a
1280x720 laptop they keep their 7.4rem and wrap as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from tests.browser.test_control_room import log_in
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]


async def _box(page: Page, selector: str) -> dict[str, float]:
    box = await page.locator(selector).bounding_box()
    assert box is not None, selector
    return dict(box)


async def test_a_directions_lanes_fill_a_wide_screen_and_wrap_on_a_laptop(
    browser: Browser, tmp_path: Path
) -> None:
    async with api_on_a_port(tmp_path) as port:
        page = await browser.new_page(viewport={"width": 2560, "height": 1440})
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        board = await _box(page, "#lanes")
        first, last = (
            await _box(page, '[data-lane="HN-E1"]'),
            await _box(page, '[data-lane="HN-E12"]'),
        )
        assert first["y"] == last["y"]  # one row
        padding = 16  # the board's 1rem
        assert last["x"] + last["width"] >= board["x"] + board["width"] - padding - 1
        assert first["width"] > 190  # not 7.4rem (118 px)

        await page.set_viewport_size({"width": 1280, "height": 720})
        first, last = (
            await _box(page, '[data-lane="HN-E1"]'),
            await _box(page, '[data-lane="HN-E12"]'),
        )
        assert first["width"] >= 118  # 7.4rem at least: they wrap rather than shrink
        assert last["y"] > first["y"]
        await page.close()
