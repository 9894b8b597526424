"""The control room end to end in a real headless Chromium against a real system (embedded
broker, decider and lane-event workers, SQLite, the API on a TCP port): log in, see a truck
published on `borderflow.plate-reads` appear in its lane within 2 s, resolve a visit in
review, close a lane and see its queued truck re-planned, be refused as a viewer, and
survive an API restart with the page reconnecting by itself."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from lanes.model import CustomsStatus
from services.runtime.settings import DatabaseSettings
from tests.browser.live import PASSWORD, add_controllers, free_port, served_api
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

INSPECTION = ("HN-E9", "HN-E10", "HN-E11")
T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 at the gate: the inspection bays are open


async def log_in(page: Page, base: str, username: str) -> None:
    await page.goto(f"{base}/control")
    await page.fill("#login-user", username)
    await page.fill("#login-pass", PASSWORD)
    await page.click("#login-submit")
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=5000)


async def send_read(bootstrap: str, event_id: str, plate: str, second: int) -> float:
    """Publish a read captured `second` s after T0; returns when it was acknowledged."""
    payload = read(event_id, plate, T0 + timedelta(seconds=second))
    await publish(bootstrap, ("hn-exp-gate-1", json.dumps(payload).encode()))
    return time.monotonic()


async def act(page: Page, button: str, reason: str) -> None:
    await page.locator(button).first.click()
    await page.fill("#confirm-reason", reason)
    await page.click("#confirm-ok")
    # each notice of an action done names it in words and its audit entry
    await expect(page.locator("#notice")).to_contain_text("(audit entry", timeout=5000)


async def test_a_controller_watches_resolves_and_closes_and_a_viewer_is_refused(
    browser: Browser, shots: Path, tmp_path: Path
) -> None:
    database = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}")
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database, tmp_path)
        async with running_system(settings) as system:
            await add_controllers(system.infra)
            now = T0
            inspect = CustomsStatus.INSPECT
            await seed(
                system.infra,
                manifest("MF-LIVE", "29H12345"),
                manifest("MF-TWIN-1", "29H56781"),
                manifest("MF-TWIN-2", "29H56787"),
                *(
                    manifest(f"MF-I{n}", f"29C{n}{n}{n}{n}{n}", customs=inspect)
                    for n in range(1, 5)
                ),
                now=now,
            )
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            async with served_api(system.infra, port):
                page = await browser.new_page(viewport={"width": 1600, "height": 1000})
                await page.goto(f"{base}/control")
                await page.fill("#login-user", "ana")
                await page.fill("#login-pass", "wrong password")
                await page.click("#login-submit")
                await expect(page.locator("#login-error")).to_contain_text("not recognised")
                await page.screenshot(path=str(shots / "control-room-login.png"))
                await log_in(page, base, "ana")

                # a truck published on plate-reads appears in its lane (2 s is the target
                # on an idle machine, bench/live_queue.py; printed here, not asserted)
                sent = await send_read(broker.bootstrap, "r-live", "29H-123.45", 1)
                truck = page.locator('[data-lane] [data-plate="29H12345"]')
                await expect(truck).to_be_visible(timeout=15_000)
                print(f"truck shown {time.monotonic() - sent:.2f} s after its read")

                # a visit the matcher could not decide: pick its manifest
                await send_read(broker.bootstrap, "r-twin", "29H5678", 2)
                item = page.locator('[data-review][data-plate="29H5678"]')
                await expect(item).to_be_visible(timeout=5000)
                await expect(item.locator('[data-candidate="MF-TWIN-2"]')).to_be_visible()
                await page.screenshot(path=str(shots / "control-room-review.png"))
                await act(
                    page,
                    '[data-review][data-plate="29H5678"] [data-candidate="MF-TWIN-2"] button',
                    "trailer plate checked on the camera image",
                )
                await expect(item).to_have_count(0, timeout=3000)
                moved = page.locator('[data-lane] [data-plate="29H5678"]')
                await expect(moved).to_be_visible(timeout=3000)
                await expect(moved).to_have_attribute(
                    "title", re.compile(r"^manifest MF-TWIN-2 picked by ana \(trailer")
                )

                # four trucks for three inspection bays: one waits; close its bay
                for n in range(1, 5):
                    await send_read(broker.bootstrap, f"r-i{n}", f"29C{n}{n}{n}{n}{n}", 2 + n)
                # all four on the board first: one read handled alone may show a truck
                # queued that the next ones' re-plan puts in service (a flake under load)
                shown = page.locator('[data-lane] .truck[data-plate^="29C"]')
                await expect(shown).to_have_count(4, timeout=15_000)
                queued = page.locator('[data-lane] .truck:not(.serving)[data-plate^="29C"]')
                await expect(queued).to_have_count(1, timeout=5000)
                plate = await queued.get_attribute("data-plate")
                lane_el = page.locator(f'[data-lane]:has([data-plate="{plate}"])')
                lane = await lane_el.get_attribute("data-lane")
                assert lane in INSPECTION
                await page.screenshot(path=str(shots / "control-room.png"))
                await act(page, f'[data-lane="{lane}"] [data-action="close_lane"]', "bay flooded")
                await expect(page.locator(f'[data-lane="{lane}"]')).to_have_class(
                    "lane closed", timeout=3000
                )
                replanned = page.locator(f'[data-lane] [data-plate="{plate}"]')
                await expect(replanned).to_have_attribute(
                    "title", re.compile(f"^re-planned: lane {lane} closed"), timeout=3000
                )
                new_lane = await page.locator(
                    f'[data-lane]:has([data-plate="{plate}"])'
                ).get_attribute("data-lane")
                assert new_lane in set(INSPECTION) - {lane}
                await page.screenshot(path=str(shots / "control-room-lane-closed.png"))

                # "Move…" offers only the open lanes that take its cargo and red channel: the
                # inspection bay left and the hazmat lane, not the standard and scanner lanes
                # (a stranger's try: it offered every open export lane, the first refused)
                move = f'[data-lane] [data-plate="{plate}"] [data-action="reassign"]'
                await page.locator(move).click()
                options = page.locator("#confirm-lane option")
                await expect(options).to_have_count(2, timeout=3000)
                offered = set(await options.evaluate_all("os => os.map(o => o.value)"))
                assert offered == (set(INSPECTION) - {lane, new_lane}) | {"HN-E12"}, offered
                await page.click("#confirm-cancel")

                # hold it: out of its queue, into the review queue. A reason of blanks only
                # is not sent: the dialog says the server's words next to the field (it let
                # three spaces through minlength=3, and the server refused them)
                hold = f'[data-lane] [data-plate="{plate}"] [data-action="hold"]'
                await page.locator(hold).click()
                await page.fill("#confirm-reason", "   ")
                await page.click("#confirm-ok")
                error = page.locator("#confirm-reason-error")
                await expect(error).to_have_text("reason: must not be blank")
                await expect(page.locator("#confirm")).to_have_attribute("open", "")
                await page.fill("#confirm-reason", "  a ")  # 4 characters, 1 once trimmed
                await expect(error).to_have_text("")  # typing again clears it
                await page.click("#confirm-ok")
                await expect(error).to_have_text(
                    "reason: at least 3 characters, not counting the blanks around it"
                )
                await expect(page.locator("#confirm")).to_have_attribute("open", "")
                await page.click("#confirm-cancel")
                await act(page, hold, "seal")
                await expect(page.locator(f'[data-review][data-plate="{plate}"]')).to_be_visible(
                    timeout=3000
                )
                # it reads held, by whom and why, as a truck an alert holds (it read "matched")
                held_item = page.locator(f'[data-review][data-plate="{plate}"]')
                await expect(held_item.locator(".outcome")).to_have_text("held")
                await expect(held_item.locator(".held-by")).to_have_text(
                    re.compile(r"^held by ana: seal \(audit entry \d+\)$")
                )
                await expect(page.locator(f'[data-lane] [data-plate="{plate}"]')).to_have_count(0)
                # then turn it away (refuse entry): out of review, in no lane
                await act(
                    page,
                    f'[data-review][data-plate="{plate}"] [data-action="turn_away"]',
                    "seal broken: handed to customs",
                )
                gone = page.locator(f'[data-review][data-plate="{plate}"]')
                await expect(gone).to_have_count(0, timeout=3000)
                await expect(page.locator(f'[data-lane] [data-plate="{plate}"]')).to_have_count(0)

                # the page kept its state from the stream's patches: it equals the server's
                # snapshot of the same seq
                for _ in range(30):
                    held = json.loads(await page.evaluate("JSON.stringify(state.snap)"))
                    server = await page.evaluate("fetch('/control/api/state').then(r => r.json())")
                    if held["seq"] == server["seq"]:
                        break
                    await page.wait_for_timeout(100)
                assert held == server
                assert await page.evaluate("state.patches") >= 5

                # a viewer sees the same screen, cannot act, and the server refuses it
                viewer = await browser.new_page(viewport={"width": 1280, "height": 800})
                await log_in(viewer, base, "vic")
                await expect(viewer.locator('[data-action="close_lane"]').first).to_be_disabled()
                refused = await viewer.evaluate(
                    """async () => {
                        const me = await (await fetch('/control/api/me')).json();
                        const r = await fetch('/control/api/actions', {method: 'POST',
                          headers: {'Content-Type': 'application/json',
                                    'X-CSRF-Token': me.csrf_token},
                          body: JSON.stringify({action: 'open_lane', lane_id: 'HN-E1',
                                                reason: 'trying'})});
                        return [r.status, (await r.json()).detail];
                    }"""
                )
                assert refused == [403, "role: vic is a viewer; only a controller can act"]
                await viewer.screenshot(path=str(shots / "control-room-viewer.png"))


async def test_the_page_reconnects_after_a_server_restart(
    browser: Browser, shots: Path, tmp_path: Path
) -> None:
    database = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}")
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database, tmp_path)
        async with running_system(settings) as system:
            await add_controllers(system.infra)
            await seed(
                system.infra,
                manifest("MF-1", "29H11111"),
                manifest("MF-2", "29H22222"),
                now=T0,
            )
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            # a browser in another time zone and locale than the gate: the page must still
            # speak gate time, HH:MM:SS
            page = await browser.new_page(
                viewport={"width": 1280, "height": 800},
                locale="en-US",
                timezone_id="America/New_York",
            )
            async with served_api(system.infra, port):
                await log_in(page, base, "ana")
                await send_read(broker.bootstrap, "r-1", "29H11111", 1)
                # a wait, not a measure (bench/live_queue.py measures the 2 s target)
                await expect(page.locator('[data-plate="29H11111"]')).to_be_visible(timeout=15_000)
            # the API is down: the page says so and greys the stale board out
            conn = page.locator("#conn")
            await expect(conn).to_have_attribute("data-state", "disconnected", timeout=5000)
            await expect(conn).to_contain_text("last update at")
            gate_clock = (await page.locator("#clock").text_content() or "").split()[-1]
            assert re.fullmatch(r"\d\d:\d\d:\d\d", gate_clock), gate_clock
            await expect(conn).to_contain_text(f"last update at {gate_clock} gate time")
            assert not re.search(r"\b[AP]M\b", await conn.text_content() or "")
            await expect(page.locator("body")).to_have_class("stale")
            await page.screenshot(path=str(shots / "control-room-disconnected.png"))
            await send_read(broker.bootstrap, "r-2", "29H22222", 2)  # decided while it is down
            async with served_api(system.infra, port):
                await expect(conn).to_have_attribute("data-state", "live", timeout=10000)
                await expect(page.locator('[data-plate="29H22222"]')).to_be_visible(timeout=3000)
                await expect(page.locator('[data-plate="29H11111"]')).to_be_visible()
                await expect(page.locator("body")).not_to_have_class("stale")
