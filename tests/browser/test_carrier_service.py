"""A controller takes an autonomous carrier out of service from the carriers panel and puts
it back, in a real headless Chromium against a real system (embedded broker, decider and
lane-event workers, SQLite, the API on a TCP port): the button, the dialog with its reason,
and the panel showing the carrier out of service once the orchestrator applied the lane
event, then back: as soon as it did, the room's periodic refresh being made an hour long
(tests/integration/test_control_room_push.py). Until 2026-12-06 the panel showed carriers and
offered no action, and then showed the change only by its 10 s refresh."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.live import running_room
from tests.browser.test_control_room import act, log_in, send_read

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(120)]


async def test_a_carrier_is_taken_out_of_service_and_back_from_the_carriers_panel(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BORDERFLOW_CONTROL_REFRESH_S", "3600")  # only the push shows it
    async with running_room(tmp_path) as (broker, _, base):
        page = await browser.new_page(viewport={"width": 1600, "height": 1000})
        await log_in(page, base, "ana")
        await send_read(broker.bootstrap, "r-1", "29H12345", 1)  # the gate's board
        row = page.locator('[data-carrier="AC-1"]')
        await expect(row).to_have_class("carrier", timeout=15_000)

        # the room pushes its snapshot once the orchestrator's transaction that applied the
        # lane event committed, as for a lane closed (tests/browser/test_control_room.py)
        await act(page, '[data-carrier="AC-1"] [data-action="carrier_out"]', "lidar")
        await expect(row).to_have_class("carrier out", timeout=5000)
        await expect(row).to_contain_text("out of service")
        # the notice in a controller's words, not the action's code ("done: carrier_out")
        notice = page.locator("#notice")
        await expect(notice).to_contain_text("Carrier AC-1 taken out of service (audit entry")
        await act(page, '[data-carrier="AC-1"] [data-action="carrier_back"]', "fixed")
        await expect(notice).to_contain_text("Carrier AC-1 back in service (audit entry")
        await expect(row).to_have_class("carrier", timeout=5000)
        await expect(row.locator('[data-action="carrier_out"]')).to_be_enabled()
