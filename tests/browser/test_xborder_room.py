"""The control room shows the other side of the gate live (issue 21): a controller logged in
to Huu Nghi's control room in Chromium sees the crossings with both sides' facts and the
cross-border alerts; a crossing recorded while the page is open appears without a reload,
and so does a message of the other side refused by the receiver, with its reason, and one
of this side's the other side refused and said so;
Acknowledge asks for a reason and the alert then shows who acknowledged it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Dialog, expect

from lanes.crossings import ExitMode, Side
from lanes.model import Direction
from services.bootstrap import Infrastructure, infrastructure
from services.runtime.settings import DatabaseSettings
from services.xborder import refusals
from services.xborder import store as xstore
from streams.xborder import MessageHeader, RefusalV1, outgoing_payload
from streams.xborder_local import LocalCrossingEventV1
from streams.xborder_sign import SigningKey, sign
from tests.browser.live import PASSWORD, add_controllers, free_port, served_api
from tests.browser.test_control_room import log_in
from tests.browser.test_gate_day import EARLY, read_early
from tests.integration.harness import fresh_broker, make_settings
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(120)]

T = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
KEY = SigningKey.generate("vn-2026-01", Side.VN)


def _exit(n: int, at: datetime) -> LocalCrossingEventV1:
    return LocalCrossingEventV1(
        event_id=f"exit-{n}",
        kind="exit",
        at=at,
        crossing_id=f"VN-b{n}",
        gate_id="huu-nghi",
        peer_gate_id="youyiguan",
        direction=Direction.EXPORT,
        tractor_plate=f"29H2000{n}",
        mode=ExitMode.ROAD,
    )


async def _take(infra: Infrastructure, event: LocalCrossingEventV1) -> None:
    async with infra.sessions() as session, session.begin():
        await xstore.take_local(
            session, event, me=Side.VN, sign=lambda m: sign(m, KEY), now=datetime.now(UTC)
        )


async def _refuse(infra: Infrastructure) -> None:
    """What the receiver keeps of China's exit refused as invalid (services/xborder/link.py)."""
    header = MessageHeader(
        message_id="CN:exit:c-7",
        type="borderflow.xborder.exit",
        sender=Side.CN,
        sequence=7,
        event_time=T,
        crossing_id="CN:youyiguan:M-7",
    )
    refusal = refusals.Refusal(
        kind="invalid",
        reason="payload.borderflow.xborder.exit.containers.0: 'CSQU3054384': check digit is 4, "
        "ISO 6346 gives 3",
        source="borderflow.xborder.from-cn:0:6",
        sender="CN",
        message=header,
    )
    async with infra.sessions() as session, session.begin():
        await refusals.record(session, [refusal], now=datetime.now(UTC))


async def _refused_by_china(infra: Infrastructure) -> None:
    """China's refusal of Vietnam's first exit, as Vietnam's link applies it."""
    refusal = RefusalV1(
        message_id="CN:refusal-1",
        sender=Side.CN,
        sequence=1,
        event_time=T,
        crossing_id="VN-b1",
        refused_message_id="VN:exit-1",
        refused_sequence=1,
        kind="invalid",
        reason="invalid: to_gate 'dongxing' is not across the border from from_gate 'huu-nghi'",
    )
    async with infra.sessions() as session, session.begin():
        await xstore.apply_received(
            session,
            refusal,
            key_id="cn-2026-01",
            payload=outgoing_payload(refusal),
            me=Side.VN,
            sign=lambda m: sign(m, KEY),
            now=datetime.now(UTC),
        )


async def test_the_other_side_live_with_the_acknowledge_action(
    browser: Browser, tmp_path: Path
) -> None:
    database = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}")
    async with (
        fresh_broker(tmp_path) as broker,
        infrastructure(make_settings(broker.bootstrap, database, tmp_path)) as infra,
    ):
        await add_controllers(infra)
        await _take(infra, _exit(1, T))
        await _take(infra, _exit(2, T + timedelta(hours=2)))
        # two crossings at 04:00 and after: the gate clock is 04:00, b1 overdue
        await _take(infra, _exit(3, T + timedelta(hours=2, minutes=1)))
        port = free_port()
        async with served_api(infra, port):
            context = await browser.new_context()
            page = await context.new_page()
            await page.goto(f"http://127.0.0.1:{port}/control")
            await page.fill("#login-user", "ana")
            await page.fill("#login-pass", PASSWORD)
            await page.click("#login-submit")
            rows = page.locator("#xborder-crossings tr")
            await expect(rows).to_have_count(3, timeout=10_000)
            await expect(page.locator('[data-crossing="VN-b1"]')).to_contain_text("in transit")
            alert = page.locator('[data-alert="overdue:VN-b1"]')
            await expect(alert).to_contain_text("overdue")

            # live: a fourth truck leaves while the page is open
            await _take(infra, _exit(4, T + timedelta(hours=2, minutes=5)))
            await expect(rows).to_have_count(4, timeout=10_000)

            # live: China's exit refused by the receiver (a wrong check digit) is listed
            await _refuse(infra)
            refused = page.locator('#xborder-refused tr[data-kind="invalid"]')
            await expect(refused).to_contain_text("CN:exit:c-7 #7", timeout=10_000)
            await expect(refused).to_contain_text("check digit is 4, ISO 6346 gives 3")
            await expect(page.locator("#xborder-link")).to_contain_text("refused 1")

            # live: China refused Vietnam's first exit and said so (a refusal message)
            await _refused_by_china(infra)
            ours = page.locator('#xborder-refused-by-peer tr[data-message="VN:exit-1"]')
            await expect(ours).to_contain_text(
                "refused by CN: invalid: to_gate 'dongxing'", timeout=10_000
            )
            await expect(page.locator("#xborder-link")).to_contain_text(
                "refused by the other side 1"
            )

            async def answer(dialog: Dialog) -> None:
                await dialog.accept("driver called: broke down at the zero line")

            page.once("dialog", answer)
            await alert.locator("button.xb-ack-button").click()
            await expect(alert).to_contain_text("acknowledged by ana", timeout=10_000)
            await context.close()


async def test_a_crossing_of_another_day_than_the_gates_gives_its_date(
    browser: Browser, tmp_path: Path
) -> None:
    """Found 2026-12-06 by a stranger sending China's messages by hand: in "The other side"
    a truck that left on New Year's Eve (2025-12-31 23:40 at Huu Nghi) and one of
    2027-02-05 15:50 were listed as "23:40" and "15:50", bare times, side by side with the
    day's; the rest of the room gives a past time's date when it is not the gate's day
    (4608eff). Here the gate's day is 2025-09-02 (a read at 06:30 local): the exit of
    2025-09-01 23:40 local gives its date, the exit of the day's 06:30 does not."""

    async def seed(infra: Infrastructure) -> None:
        await read_early(infra)
        await _take(infra, _exit(1, datetime(2025, 9, 1, 16, 40, tzinfo=UTC)))  # 23:40 local
        await _take(infra, _exit(2, EARLY))

    async with api_on_a_port(tmp_path, seed=seed) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        await expect(page.locator("#clock-date")).to_have_text("2025-09-02")
        eve = page.locator('[data-crossing="VN-b1"]')
        await expect(eve).to_contain_text("2025-09-01 23:40 29H20001", timeout=10_000)
        today = page.locator('[data-crossing="VN-b2"]')
        await expect(today).to_contain_text("06:30 29H20002")
        await expect(today).not_to_contain_text("2025")
        await page.close()
