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
from tests.integration.harness import fresh_broker, make_settings

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
