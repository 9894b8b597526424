"""The control room's waiting-area panel (issue 23) in a real headless Chromium against a
real system (embedded broker, the decider's and lane-event workers, SQLite, the API on a
TCP port): the call-forward worker queues two trucks read at the export waiting area's
camera; a viewer logged in to the control room sees them in the panel, with the lane each
was called to, and the panel follows when one reaches the gate."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from lanes.model import PlateRead
from services.bootstrap import step_waiting_areas
from services.runtime.settings import DatabaseSettings
from services.service_layer.callforward import StepWaitingAreas
from tests.browser.live import add_controllers, free_port, served_api
from tests.browser.test_control_room import log_in
from tests.integration.harness import fresh_broker, make_settings, manifest, running_system, seed

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 at the gate
AREA, GATE_IN = "hn-exp-approach-1", "hn-exp-gate-1"


def reads(*items: tuple[str, str, str, datetime]) -> StepWaitingAreas:
    return StepWaitingAreas(
        tuple(PlateRead(e, camera, at, plate, 0.95) for e, camera, plate, at in items),
        received_at=datetime.now(UTC),
    )


async def test_the_waiting_area_panel_shows_the_queued_trucks_and_their_calls(
    browser: Browser, shots: Path, tmp_path: Path
) -> None:
    database = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}")
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database, tmp_path)
        async with running_system(settings) as system:
            infra = system.infra
            await add_controllers(infra)
            await seed(infra, manifest("WA-1", "29C61111"), manifest("WA-2", "29C62222"), now=T0)
            sent: list[object] = []

            async def publish(call: object) -> None:
                sent.append(call)

            step = step_waiting_areas(
                sessions=infra.sessions,
                gates=infra.gates,
                publish=publish,
                secret=b"panel test",
            )
            await step(reads(("p-1", AREA, "29C61111", T0), ("p-2", AREA, "29C62222", T0)))
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            async with served_api(infra, port):
                page = await browser.new_page(viewport={"width": 1600, "height": 1000})
                await log_in(page, base, "vic")
                first = page.locator('[data-waiting="wa-p-1"]')
                await expect(first).to_contain_text("29C61111", timeout=10_000)
                await expect(first).to_contain_text(re.compile(r"called to HN-E\d+"))
                # the driver's page code, for the area's staff to give a walk-in's driver
                await expect(first.locator(".code")).to_have_text(re.compile(r"^[2-9A-Z]{8}$"))
                await expect(page.locator('[data-waiting="wa-p-2"]')).to_contain_text("29C62222")
                await expect(page.locator("#waiting-count")).to_contain_text("2")
                await page.screenshot(path=f"{shots}/control-room-waiting-area.png")

                # the first truck reaches the gate: it leaves the panel at the next poll
                await step(reads(("p-3", GATE_IN, "29C61111", T0 + timedelta(minutes=5))))
                await expect(first).to_have_count(0, timeout=10_000)
                await expect(page.locator('[data-waiting="wa-p-2"]')).to_have_count(1)
                await page.context.close()
