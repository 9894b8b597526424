"""The risk-alerts panel end to end in a real headless Chromium against a real system
(embedded broker, decider, SQLite, the API on a TCP port), issue 22: an anomaly (a container
at the portal that the manifest does not declare) is fed on `borderflow.plate-reads`, its
alert appears in the control room (the time from the read that caused it is printed: 2 s
is the target on an idle machine, not asserted), first on the page,
with its evidence a click away; the controller acknowledges it and the acknowledgement is in
the audit hash chain."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select

from lanes.containers import check_digit
from services.db.audit import verify_chain
from services.db.control_tables import AuditRow
from services.runtime.settings import DatabaseSettings
from tests.browser.live import add_controllers, free_port, served_api
from tests.browser.test_control_room import log_in
from tests.integration.harness import (
    fresh_broker,
    make_settings,
    manifest,
    publish,
    read,
    running_system,
    seed,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
OTHER = f"TGHU876543{check_digit('TGHU876543')}"


async def test_an_alert_appears_within_2_s_and_its_acknowledgement_is_audited(
    browser: Browser, shots: Path, tmp_path: Path
) -> None:
    database = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}")
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database, tmp_path)
        async with running_system(settings) as system:
            infra = system.infra
            await add_controllers(infra)
            await seed(infra, manifest("MF-2", "29H22222", containers=("MSCU1234565",)), now=T0)
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            async with served_api(infra, port):
                page = await browser.new_page(viewport={"width": 1600, "height": 1000})
                await log_in(page, base, "ana")
                await expect(page.locator("#alert-items")).to_contain_text("no alerts")

                first = read("s-1", "29H22222", T0)
                await publish(broker.bootstrap, ("hn-exp-gate-1", json.dumps(first).encode()))
                await expect(page.locator('[data-lane] [data-plate="29H22222"]')).to_have_count(
                    0, timeout=5000
                )  # on a carrier slot (it carries a container), not in a lane
                cause = read("s-2", "29H22222", T0 + timedelta(seconds=40)) | {
                    "container_numbers": [OTHER]
                }
                await publish(broker.bootstrap, ("hn-exp-gate-1", json.dumps(cause).encode()))
                sent = time.monotonic()
                alert = page.locator('[data-alert][data-rule="swap"]')
                # not a timed assertion (a loaded machine is slower): the time is printed,
                # the 2 s target is read from it on an idle machine (docs/alerts.md)
                await expect(alert).to_be_visible(timeout=15_000)
                print(f"alert shown {time.monotonic() - sent:.2f} s after its cause")

                # first on the page: above the KPIs and the lanes (read in one go in the
                # page, as the live stream may redraw the panel between two reads)
                await page.wait_for_function(
                    """() => {
                        const a = document.querySelector('[data-alert][data-rule="swap"]');
                        const k = document.querySelector('#kpis');
                        return a && k && a.getBoundingClientRect().top
                            < k.getBoundingClientRect().top;
                    }""",
                    timeout=5000,
                )
                await expect(alert.locator(".sev")).to_have_text("high")
                await expect(alert.locator(".subject")).to_have_text("manifest:MF-2")
                await expect(alert.locator(".age")).to_contain_text("ago")
                await alert.locator("summary").click()  # the evidence, one click away
                await expect(alert.locator(".evidence")).to_contain_text("s-2")
                await expect(alert.locator(".why")).to_contain_text(OTHER)
                await page.screenshot(path=str(shots / "control-room-alerts.png"))

                await alert.locator('[data-alert-action="acknowledge"]').click()
                await page.fill("#confirm-reason", "container checked with the driver")
                await page.click("#confirm-ok")
                await expect(page.locator("#notice")).to_contain_text("Alert acknowledged:")
                await expect(alert).to_have_attribute("data-status", "acknowledged", timeout=3000)
                alert_id = await alert.get_attribute("data-alert")
                await page.close()

            async with infra.sessions() as session:
                verdict = await verify_chain(session=session)
                entries = list(await session.scalars(select(AuditRow)))
            assert verdict.ok
            assert [(e.action, e.actor, e.target, e.reason) for e in entries] == [
                ("alert_acknowledge", "ana", alert_id, "container checked with the driver")
            ]
