"""The drivers' page (issue 23) in Debian's chromium at a phone's size: a waiting truck's
page shows its position, then, within 2 s of the call decision, the call and its lane, in
Vietnamese and in Chinese (the browser's language); another truck's link never shows this
truck; an unknown token is a 404; a booked driver checks in from the phone and is called."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.board import Board, Truck
from lanes.model import (
    BookingStatus,
    CargoClass,
    CustomsChannel,
    Direction,
    Gate,
    Manifest,
    WaitingArea,
)
from lanes.policy.callforward import (
    AreaQueue,
    CallForwardPolicy,
    CallKind,
    PlaceLost,
    TruckCalled,
)
from services.api.app import ApiContext, create_app
from services.api.ratelimit import RateLimiter
from services.bootstrap import build_callforward, infrastructure, prepare_database
from services.db.engine import create_engine, session_factory
from services.db.firms import create_firm
from services.db.manifests import store_manifests
from services.drivers.hub import DriverHub
from services.drivers.routes import KEEP_ALIVE_S, CheckInBooking, PageSource, drivers_router
from services.drivers.store import HubPages, Watch
from services.drivers.view import booked_state, driver_states, lost_state
from services.gates.loader import configured_gates, get_gate
from services.runtime.settings import DatabaseSettings, KafkaSettings
from streams import clock
from tests.browser.live import _Server, free_port, served_api
from tests.integration.harness import fresh_broker, make_settings, manifest, seed
from tests.integration.test_bookings_api import local_slot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

HN = get_gate("huu-nghi")
CN_GATES = Path(__file__).resolve().parents[2] / "services" / "gates" / "cn"  # --side CN
T0 = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)  # 10:00 local
PHONE = {"width": 390, "height": 844}
FIELDS = {"status", "position", "expected_call", "lane_id", "carrier_slot", "way", "yard"}
FIELDS |= {"gate", "called_at", "be_there_by", "zone", "expected_at", "as_of", "deadline"}


def a_queue(n: int) -> AreaQueue:
    area = HN.waiting_area(Direction.EXPORT)
    assert area is not None
    queue = AreaQueue()
    for i in range(n):
        truck = Truck(
            visit_id=f"visit-{i:03d}",
            direction=Direction.EXPORT,
            arrived_at=T0 - timedelta(minutes=30) + timedelta(seconds=i),
            channel=CustomsChannel.GREEN,
            cargo=frozenset({CargoClass.GENERAL}),
            containers=0,
            booking=BookingStatus.WALK_IN,
            manifest_id=f"MF-SECRET-{i:03d}",
        )
        queue = queue.entered(truck, area, truck.arrived_at)
    return queue


@contextlib.asynccontextmanager
async def serve(
    hub: DriverHub | PageSource,
    *,
    keep_alive_s: float = KEEP_ALIVE_S,
    check_in: CheckInBooking | None = None,
) -> AsyncIterator[str]:
    app = FastAPI()
    app.include_router(
        drivers_router(hub, stream_lifetime_s=60, keep_alive_s=keep_alive_s, check_in=check_in)
    )
    async with serve_app(app) as base:
        yield base


@contextlib.asynccontextmanager
async def serve_app(app: FastAPI) -> AsyncIterator[str]:
    """`app` on a port of its own (no lifespan: no workers, no broker), its base URL."""
    port = free_port()
    server = _Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                       lifespan="off", timeout_graceful_shutdown=1)
    )  # fmt: skip
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(20):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)


async def phone(browser: Browser, locale: str, timezone_id: str | None = None) -> Page:
    context = await browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale=locale, timezone_id=timezone_id
    )
    return await context.new_page()


@pytest.mark.parametrize(
    "case",
    [("vi-VN", "vi", "Hãy đến cửa khẩu ngay", "Làn"), ("zh-CN", "zh", "请立即前往口岸", "车道")],
    ids=["vi", "zh"],
)
async def test_position_then_the_call_and_lane_within_2_s(
    browser: Browser, case: tuple[str, str, str, str], shots: object
) -> None:
    locale, lang, go, lane_word = case
    hub = DriverHub(secret=b"test secret")
    queue, board = a_queue(30), Board.for_gate(HN)
    hub.publish(driver_states(queue, board, HN, now=T0))
    mine, other = "visit-000", "visit-001"
    async with serve(hub) as base:
        page = await phone(browser, locale)
        reply = await page.goto(f"{base}/d/{hub.token_for(mine)}")
        assert reply is not None and reply.status == 200
        assert await page.get_attribute("html", "lang") == lang
        await page.wait_for_function(
            "() => document.getElementById('position').textContent === '1'", timeout=5000
        )
        assert await page.is_visible("#position")
        other_page = await phone(browser, locale)
        await other_page.goto(f"{base}/d/{hub.token_for(other)}")
        await other_page.wait_for_function(
            "() => document.getElementById('position').textContent === '2'", timeout=5000
        )

        events, queue, board = CallForwardPolicy().step(queue, board, HN, now=T0)
        calls = {e.visit_id: e for e in events if isinstance(e, TruckCalled)}
        assert mine in calls and calls[mine].lane_id is not None
        decided = time.monotonic()
        hub.publish(driver_states(queue, board, HN, now=T0))
        await page.wait_for_function(
            "(lane) => document.getElementById('place').textContent === lane",
            arg=calls[mine].lane_id,
            timeout=15_000,
        )
        # the target is 2 s; printed, not asserted (a loaded machine is slower)
        print(f"call shown {time.monotonic() - decided:.2f} s after the decision")
        text = await page.inner_text("body")
        assert go in text and lane_word in text and calls[mine].lane_id in text
        assert await page.is_hidden("#waiting")

        # another truck's link shows that truck alone: nothing of this one
        await other_page.wait_for_function(
            "(s) => document.body.dataset.status === s",
            arg="called" if other in calls else "waiting",
            timeout=15_000,
        )
        other_text = await other_page.inner_text("body")
        assert mine not in other_text and "MF-SECRET" not in other_text
        if other in calls:
            assert await other_page.inner_text("#place") == calls[other].lane_id
            assert calls[other].lane_id != calls[mine].lane_id
        async with httpx.AsyncClient() as client:
            for visit_id in (mine, other):
                data = (await client.get(f"{base}/d/{hub.token_for(visit_id)}/state")).json()
                assert set(data) <= FIELDS
                assert "visit" not in json.dumps(data) and "MF-SECRET" not in json.dumps(data)
        await page.screenshot(path=f"{shots}/driver-called-{lang}.png")


async def test_the_language_can_be_switched_and_english_is_the_fallback(
    browser: Browser,
) -> None:
    hub = DriverHub(secret=b"test secret")
    hub.publish(driver_states(a_queue(3), Board.for_gate(HN), HN, now=T0))
    async with serve(hub) as base:
        page = await phone(browser, "de-DE")
        await page.goto(f"{base}/d/{hub.token_for('visit-002')}")
        await page.wait_for_function("() => document.getElementById('position').textContent")
        assert "Your place in the queue" in await page.inner_text("body")
        await page.click("a[hreflang=zh]")
        await page.wait_for_function("() => document.documentElement.lang === 'zh'")
        await page.wait_for_function(
            "() => document.getElementById('position').textContent === '3'"
        )
        assert "您在队列中的位置" in await page.inner_text("body")


async def test_a_lost_place_is_told_in_the_drivers_language(browser: Browser) -> None:
    """The policy's reason is English; the page words the deadline missed in its own
    language (Vietnamese here) and shows no English reason."""
    hub = DriverHub(secret=b"test secret")
    missed = T0 + timedelta(minutes=30)
    lost = PlaceLost("visit-009", "huu-nghi", "hn-exp-wait", missed, "visit-009/call-2",
                     "called at 10:00 and recalled at 10:15, not at the gate by 10:30: place lost",
                     missed)  # fmt: skip
    hub.publish({"visit-009": lost_state(lost, HN.utc_offset)})
    async with serve(hub) as base:
        page = await phone(browser, "vi-VN")
        await page.goto(f"{base}/d/{hub.token_for('visit-009')}")
        await page.wait_for_function("() => document.body.dataset.status === 'lost'")
        text = await page.inner_text("body")
        assert "Bạn đã mất vị trí trong hàng chờ" in text
        assert "không có mặt tại cửa khẩu trước 10:30" in text and "recalled" not in text


@pytest.mark.parametrize(
    ("locale", "zoned"),
    [
        ("zh-CN", "{t}（口岸当地时间，UTC+07:00）"),
        ("vi-VN", "{t} (giờ địa phương tại cửa khẩu, UTC+07:00)"),
        ("en-GB", "{t} (local time at the gate, UTC+07:00)"),
    ],
)
async def test_the_times_shown_name_the_gates_zone(
    browser: Browser, locale: str, zoned: str
) -> None:
    """Huu Nghi is UTC+7; a Chinese driver's phone (here Shanghai's zone, UTC+8) reads
    "10:00" as its own time, an hour off. Before, the expected call, the time to be at the
    gate by and a missed deadline were bare HH:MM; each now names the gate's zone."""
    hub = DriverHub(secret=b"test secret")
    queue, board = a_queue(3), Board.for_gate(HN)
    hub.publish(driver_states(queue, board, HN, now=T0))
    lost = PlaceLost("visit-009", "huu-nghi", "hn-exp-wait", T0, "visit-009/call-2",
                     "not at the gate", T0 + timedelta(minutes=30))  # fmt: skip
    hub.publish({"visit-009": lost_state(lost, HN.utc_offset)})
    async with serve(hub) as base:
        page = await phone(browser, locale, "Asia/Shanghai")
        await page.goto(f"{base}/d/{hub.token_for('visit-002')}")
        await page.wait_for_function("() => document.body.dataset.status === 'waiting'")
        expected = json.loads(hub.state(hub.token_for("visit-002")) or "{}")["expected_call"]
        assert await page.inner_text("#expected") == zoned.format(t=expected)

        _, queue, board = CallForwardPolicy().step(queue, board, HN, now=T0)
        hub.publish(driver_states(queue, board, HN, now=T0))
        await page.wait_for_function("() => document.body.dataset.status === 'called'")
        by = json.loads(hub.state(hub.token_for("visit-002")) or "{}")["be_there_by"]
        assert await page.inner_text("#by") == zoned.format(t=by)

        await page.goto(f"{base}/d/{hub.token_for('visit-009')}")
        await page.wait_for_function("() => document.body.dataset.status === 'lost'")
        assert zoned.format(t="10:30") in await page.inner_text("#reason")


@pytest.mark.parametrize(
    ("locale", "words"),
    [("vi-VN", "Lịch đặt này đã bị hủy"), ("zh-CN", "此预约已取消"), ("en-GB", "This booking was")],
)
async def test_a_truck_withdrawn_for_its_cancelled_booking_is_told_so(
    browser: Browser, locale: str, words: str
) -> None:
    """The firm cancels the booking of a truck already called: the policy withdraws it.
    Before, its page said "you lost your place" with the policy's English reason ("booking
    cancelled by the firm: its place withdrawn") whatever the driver's language; it now
    shows the booking's cancelled card, in the driver's language, and no English reason."""
    hub = DriverHub(secret=b"test secret")
    queue, board = a_queue(1), Board.for_gate(HN)
    _, queue, board = CallForwardPolicy().step(queue, board, HN, now=T0)
    assert queue.waiting[0].call is not None  # called
    lost, _, _ = CallForwardPolicy().withdraw(
        "visit-000", queue, board, HN, now=T0 + timedelta(minutes=1),
        reason="booking cancelled by the firm: its place withdrawn",
    )  # fmt: skip
    assert lost is not None
    hub.publish({"visit-000": lost_state(lost, HN.utc_offset)})
    async with serve(hub) as base:
        page = await phone(browser, locale)
        await page.goto(f"{base}/d/{hub.token_for('visit-000')}")
        await page.wait_for_function("() => document.body.dataset.status === 'cancelled'")
        text = await page.inner_text("body")
        assert words in text
        assert "withdrawn" not in text and "by the firm" not in text


@pytest.mark.parametrize(
    ("locale", "shown"),
    [
        ("zh-CN", "您的时段：2026年11月24日 10:00–11:00（口岸当地时间，UTC+07:00）"),
        (
            "vi-VN",
            "Khung giờ của bạn: 10:00–11:00 ngày 24/11/2026"
            " (giờ địa phương tại cửa khẩu, UTC+07:00)",
        ),
        ("en-GB", "Your slot: 24 Nov 2026, 10:00–11:00 (local time at the gate, UTC+07:00)"),
    ],
)
async def test_a_booked_page_shows_its_slot_in_the_gates_time(
    browser: Browser, locale: str, shown: str
) -> None:
    """The booked slot (03:00-04:00 UTC: 10:00-11:00 at Huu Nghi, UTC+7) as the gate
    tells it, in the page's language, on a phone whose own zone is New York's, with the
    gate's zone as every other time the page tells (found as a stranger, 2026-12-06: the
    slot alone said "local time at the gate" with no zone, which a Chinese driver's phone
    at Huu Nghi, UTC+8, or a Vietnamese one's at Youyiguan, UTC+8 against UTC+7, reads an
    hour off; a driver more than 60 minutes late loses the booking)."""
    hub = DriverHub(secret=b"test secret")
    gate_time = timezone(HN.utc_offset)
    start = datetime(2026, 11, 24, 3, 0, tzinfo=UTC).astimezone(gate_time)
    hub.publish({"visit-b": booked_state((start, start + timedelta(hours=1)))})
    async with serve(hub) as base:
        context = await browser.new_context(
            viewport=PHONE, is_mobile=True, locale=locale, timezone_id="America/New_York"
        )
        page = await context.new_page()
        await page.goto(f"{base}/d/{hub.token_for('visit-b')}")
        await page.wait_for_function("() => document.body.dataset.status === 'booked'")
        assert shown in await page.inner_text("#booked-slot")


# what a booked driver at a gate without a waiting area for its direction reads, by language:
# where to drive, and the slot in the gate's zone (Youyiguan: UTC+8)
TO_GATE = {
    "vi": (
        "Cửa khẩu này không có bãi chờ cho hướng đi của bạn: hãy lái xe thẳng đến cửa khẩu",
        "Khung giờ của bạn: 10:00–10:30 ngày 24/11/2026 (giờ địa phương tại cửa khẩu, UTC+08:00)",
    ),
    "zh": (
        "本口岸没有您通行方向的等候区：请在预约时段内直接驶往口岸",
        "您的时段：2026年11月24日 10:00–10:30（口岸当地时间，UTC+08:00）",
    ),
    "en": (
        "This gate has no waiting area for your direction: drive straight to the gate",
        "Your slot: 24 Nov 2026, 10:00–10:30 (local time at the gate, UTC+08:00)",
    ),
}


@contextlib.asynccontextmanager
async def _youyiguan_db(
    tmp_path: Path,
) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], str]]:
    """A SQLite database of the Chinese side's Youyiguan (no waiting area in its file):
    its sessions and firm-cn's key; firm-cn's import manifest YY-1 stored."""
    gate = configured_gates(CN_GATES)["youyiguan"]
    assert gate.waiting_area(Direction.IMPORT) is None
    engine = create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'bf.db'}"))
    try:
        await prepare_database(engine, {"youyiguan": gate})
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            key = (await create_firm(session=session, firm_id="firm-cn", name="F", now=T0)).key
            cargo = Manifest("YY-1", "firm-cn", Direction.IMPORT, tractor_plate="29H12345")
            await store_manifests(session=session, manifests=[cargo], source="http", now=T0)
        yield sessions, key
    finally:
        await engine.dispose()


def _youyiguan_app(sessions: async_sessionmaker[AsyncSession], gate: Gate) -> FastAPI:
    context = ApiContext(
        sessions=sessions,
        kafka=KafkaSettings(bootstrap="127.0.0.1:9"),
        bootstrap="127.0.0.1:9",
        gates={"youyiguan": gate},
        default_gate="youyiguan",
        limiter=RateLimiter(rate=10_000.0, burst=10_000),
    )
    return create_app(context)


async def _book_yy_1(api: httpx.AsyncClient, base: str, key: str) -> str:
    """Firm-cn books YY-1 at 09:30 (+08:00) tomorrow; the driver's page link."""
    booked = await api.post(
        f"{base}/v1/bookings",
        json={"manifest_id": "YY-1", "slot_start": "2026-11-24T09:30:00+08:00"},
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "yy-1"},
    )
    assert booked.status_code == 201, booked.text
    moved = await api.post(
        f"{base}/v1/bookings/{booked.json()['booking_id']}/reschedule",
        json={"slot_start": "2026-11-24T10:00:00+08:00"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert moved.status_code == 200, moved.text
    link: str = booked.json()["driver_page"]
    return link


async def test_a_booked_page_at_a_gate_without_a_waiting_area_says_to_drive_to_the_gate(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a stranger on the Chinese side (`borderflow up --side CN`, Youyiguan, whose
    gate file has no waiting area), 2026-12-06: the booked driver's page said "drive to the
    waiting area" and showed the check-in button, and a tap always ended in "Check-in
    refused: ask your firm or the waiting area's staff". The real API books an import
    truck at Youyiguan; its page says to drive to the gate in the slot (in the gate's
    zone), with no check-in to tap, and still does after a reschedule. The API's clock is
    fixed: nothing here depends on today's date."""
    monkeypatch.setattr(clock, "wall_clock", lambda: datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    gate = configured_gates(CN_GATES)["youyiguan"]
    async with _youyiguan_db(tmp_path) as (sessions, key):
        app = _youyiguan_app(sessions, gate)
        async with serve_app(app) as base, httpx.AsyncClient() as api:
            link = await _book_yy_1(api, base, key)
            state = (await api.get(f"{link}/state")).json()
            assert state["waiting_area"] is False and state["slot_start"].endswith("+08:00")
            page = await phone(browser, "en-US")
            for lang, (told, slot) in TO_GATE.items():
                await page.goto(f"{link}?lang={lang}")
                await page.wait_for_function("() => document.body.dataset.status === 'booked'")
                assert told in await page.inner_text("#booked"), lang
                assert slot in await page.inner_text("#booked-slot"), lang
                assert await page.is_hidden("#check-in"), lang
            await page.context.close()  # its stream, before the server stops


async def test_a_booked_page_follows_the_gate_file_as_loaded_now(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Youyiguan's file given an import waiting area after YY-1 was booked (the API
    restarted on it): the booked page opened then says to drive to the waiting area and
    offers the check-in, as a page booked under the new file does; the file back without
    it, the page says again to drive to the gate. Until 2026-12-06 late the no-area flag
    was saved with the booking, so the page kept the wording of the file it was booked
    under (`"waiting_area": false`, no check-in, while the check-in was taken)."""
    monkeypatch.setattr(clock, "wall_clock", lambda: datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    gate = configured_gates(CN_GATES)["youyiguan"]
    area = WaitingArea(
        "yg-imp-wait", "Youyiguan import waiting area", Direction.IMPORT,
        camera_id="yg-imp-approach-1", capacity=50, drive_time=timedelta(minutes=5),
    )  # fmt: skip
    with_area = replace(gate, waiting_areas=(area,))
    async with _youyiguan_db(tmp_path) as (sessions, key):
        async with serve_app(_youyiguan_app(sessions, gate)) as base, httpx.AsyncClient() as api:
            link = await _book_yy_1(api, base, key)
            assert (await api.get(f"{link}/state")).json()["waiting_area"] is False
        path = httpx.URL(link).path
        async with (
            serve_app(_youyiguan_app(sessions, with_area)) as base,
            httpx.AsyncClient() as api,
        ):
            state = (await api.get(f"{base}{path}/state")).json()
            assert state["status"] == "booked" and "waiting_area" not in state
            page = await phone(browser, "en-US")
            await page.goto(f"{base}{path}")
            await page.wait_for_function("() => document.body.dataset.status === 'booked'")
            assert await page.is_visible("#check-in")
            await page.context.close()  # its stream, before the server stops
        async with serve_app(_youyiguan_app(sessions, gate)) as base, httpx.AsyncClient() as api:
            assert (await api.get(f"{base}{path}/state")).json()["waiting_area"] is False


async def test_an_unknown_token_or_code_is_a_404(browser: Browser) -> None:
    hub = DriverHub(secret=b"test secret")
    hub.publish(driver_states(a_queue(2), Board.for_gate(HN), HN, now=T0))
    stranger = DriverHub(secret=b"another secret")
    async with serve(hub) as base:
        page = await phone(browser, "vi-VN")
        for token in ("not-a-token", stranger.token_for("visit-000"), "visit-000"):
            reply = await page.goto(f"{base}/d/{token}")
            assert reply is not None and reply.status == 404
            # the phone's browser gets a page in its language, not the JSON problem
            assert reply.headers["content-type"].startswith("text/html")
            assert "Liên kết này không hợp lệ" in await page.inner_text("body")
        reply = await page.goto(f"{base}/d/c/ZZZZZZZZ")
        assert reply is not None and reply.status == 404
        assert "mã in tại bãi chờ" in await page.inner_text("body")
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{base}/d/nope/events")).status_code == 404
            assert (await client.get(f"{base}/d/nope/state")).status_code == 404
            assert (await client.get(f"{base}/d/c/ZZZZZZZZ")).status_code == 404
            code = hub.code_for("visit-001")
            moved = await client.get(f"{base}/d/c/{code.lower()}")
            assert moved.status_code == 303
            assert moved.headers["location"] == f"/d/{hub.token_for('visit-001')}"


async def test_a_driver_types_the_code_into_a_form_in_their_language(browser: Browser) -> None:
    """Before, a driver with only the code printed at the waiting area had to type
    `/d/c/CODE` into the address bar. `/d` is a form in the driver's language: the code as
    typed (lower case, a hyphen, full-width letters) opens the truck's page; a wrong one is
    said on the same form, in that language. No JavaScript is needed for it."""
    hub = DriverHub(secret=b"test secret")
    hub.publish(driver_states(a_queue(3), Board.for_gate(HN), HN, now=T0))
    code = hub.code_for("visit-001")
    async with serve(hub) as base:
        context = await browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN",
            java_script_enabled=False,
        )  # fmt: skip
        page = await context.new_page()
        reply = await page.goto(f"{base}/d")
        assert reply is not None and reply.status == 200
        assert await page.inner_text("h1") == "Mở trang xe của bạn"
        await page.fill("#code", "ZZZZ-ZZZZ")
        async with page.expect_navigation() as wrong:
            await page.get_by_role("button", name="Mở trang xe của tôi").click()
        answer = await wrong.value
        assert answer is not None and answer.status == 404
        assert "Không có xe nào có mã này" in await page.inner_text("#wrong")
        assert await page.input_value("#code") == "ZZZZ-ZZZZ"  # kept, to correct
        await page.fill("#code", f"{code[:4].lower()}-{code[4:].lower()}")
        await page.get_by_role("button", name="Mở trang xe của tôi").click()
        await page.wait_for_url(f"{base}/d/{hub.token_for('visit-001')}")
        # in Chinese, switched on the form, a code in full-width letters: the page opens
        # in Chinese and shows the truck's place
        page = await phone(browser, "vi-VN")
        await page.goto(f"{base}/d")
        await page.click("a[hreflang=zh]")
        assert await page.inner_text("h1") == "打开您货车的页面"
        full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in code)
        await page.fill("#code", f"{full_width[:4]}　{full_width[4:]}")
        await page.get_by_role("button", name="打开我的货车页面").click()
        # the truck's page, not the form still on screen while the browser navigates (the
        # wait read the form's missing #position once: a TypeError, CI 2026-12-07)
        await page.wait_for_url(f"{base}/d/{hub.token_for('visit-001')}?lang=zh")
        await page.wait_for_function(
            "() => document.getElementById('position')?.textContent === '2'"
        )
        assert page.url == f"{base}/d/{hub.token_for('visit-001')}?lang=zh"
        assert "您在队列中的位置" in await page.inner_text("body")
        # a code never given, typed in Chinese: said in Chinese, nothing of any other truck
        await page.goto(f"{base}/d?lang=zh&code=22222222")
        assert "没有货车使用此代码" in await page.inner_text("#wrong")
        async with httpx.AsyncClient() as client:
            for typed in ("", "x" * 10_000, "%00", "ZZZZZZZZ"):
                got = await client.get(f"{base}/d", params={"code": typed})
                assert got.status_code == 404 and "text/html" in got.headers["content-type"]


async def test_a_driver_checks_in_from_the_phone_and_the_page_shows_the_call(
    browser: Browser, tmp_path: Path, shots: object
) -> None:
    """Issue 23, "checked in with its booking", as the driver does it: the real system (the
    embedded broker, SQLite, the API with its booking outbox on a TCP port, the call-forward
    worker's consumer). A firm books over HTTP; the driver opens the booking's page on a
    phone in Chinese, taps "I am in the waiting area"; the page then shows the call and the
    lane, with no camera read at all."""
    database = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}")
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database, tmp_path)
        async with infrastructure(settings) as infra:
            async with infra.sessions() as session, session.begin():
                key = (await create_firm(session=session, firm_id="firm-01", name="F", now=T0)).key
            await seed(infra, manifest("CK-1", "29C55555"), now=T0)
            _, runtime = build_callforward(infra)
            stop = asyncio.Event()
            task = asyncio.create_task(runtime.run(stop))
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            try:
                await asyncio.wait_for(runtime.ready.wait(), timeout=20)
                async with served_api(infra, port), httpx.AsyncClient(base_url=base) as api:
                    booked = await api.post(
                        "/v1/bookings",
                        json={"manifest_id": "CK-1", "slot_start": local_slot(1, 10).isoformat()},
                        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "ck-1"},
                    )
                    assert booked.status_code == 201, booked.text
                    page = await phone(browser, "zh-CN")
                    # absolute: the API's own base URL (no public URL configured)
                    assert booked.json()["driver_page"].startswith(f"{base}/d/")
                    await page.goto(booked.json()["driver_page"])
                    await page.wait_for_function(
                        "() => document.body.dataset.status === 'booked'", timeout=10_000
                    )
                    await page.get_by_role("button", name="我已到达等候区").click()
                    await page.wait_for_function(
                        "() => document.getElementById('check-in-result').textContent !== ''",
                        timeout=10_000,
                    )
                    tapped = time.monotonic()
                    await page.wait_for_function(
                        "() => document.body.dataset.status === 'called'", timeout=30_000
                    )
                    print(f"call shown {time.monotonic() - tapped:.2f} s after the tap")
                    lane = await page.inner_text("#place")
                    assert lane.startswith("HN-E"), lane
                    assert "请立即前往口岸" in await page.inner_text("body")
                    await page.screenshot(path=f"{shots}/driver-checked-in-zh.png")
            finally:
                stop.set()
                await asyncio.wait_for(task, timeout=20)


class SilentFirstStream(HubPages):
    """The hub's pages, but the first stream opened goes silent after its first data and
    stays open: a phone's connection dead without a word (a network change, a proxy
    holding it), which neither side closes."""

    def __init__(self, hub: DriverHub) -> None:
        super().__init__(hub)
        self.opened = 0

    @contextlib.asynccontextmanager
    async def watch(self, token: str) -> AsyncIterator[Watch]:
        self.opened += 1
        if self.opened > 1:
            async with super().watch(token) as changed:
                yield changed
            return

        async def silent(within: float) -> str | None:
            await asyncio.Event().wait()  # never: no data, no keep-alive
            return None

        yield silent


async def test_a_stream_gone_silent_is_reopened_not_trusted(browser: Browser) -> None:
    """Before, the page trusted its stream for ever: the keep-alives were SSE comments,
    which a page cannot see, so a connection dead without a word left the old data on
    the screen as current, with no "connection lost". The stream now sends an `alive`
    event, and a page that hears nothing for three periods says so and reconnects."""
    hub = DriverHub(secret=b"test secret")
    queue, board = a_queue(1), Board.for_gate(HN)
    hub.publish(driver_states(queue, board, HN, now=T0 - timedelta(minutes=10)))
    source = SilentFirstStream(hub)
    async with serve(source, keep_alive_s=0.5) as base:
        page = await phone(browser, "vi-VN")
        await page.goto(f"{base}/d/{hub.token_for('visit-000')}")
        await page.wait_for_function("() => document.body.dataset.status === 'waiting'")
        _, queue, board = CallForwardPolicy().step(queue, board, HN, now=T0)
        hub.publish(driver_states(queue, board, HN, now=T0))  # the call, on a dead line
        await page.wait_for_function(
            "() => document.body.dataset.status === 'called'", timeout=20_000
        )
        assert source.opened >= 2
        await page.wait_for_function("() => document.getElementById('offline').hidden")
        assert "Hãy đến cửa khẩu ngay" in await page.inner_text("body")


@pytest.mark.parametrize(
    ("locale", "last"),
    [
        ("vi-VN", "Đây là lần gọi cuối"),
        ("zh-CN", "这是最后一次叫号"),
        ("en-GB", "This is your last call"),
    ],
)
async def test_a_recall_says_it_is_the_last_call(browser: Browser, locale: str, last: str) -> None:
    """A truck not at the gate by its call's deadline is recalled once, then loses its
    place. Before, the recalled page said "Reminder: go to the gate now" and a time, and
    nothing of what missing it costs; it now says it is the last call (a first call
    does not)."""
    hub = DriverHub(secret=b"test secret")
    policy, queue, board = CallForwardPolicy(), a_queue(1), Board.for_gate(HN)
    _, queue, board = policy.step(queue, board, HN, now=T0)
    hub.publish(driver_states(queue, board, HN, now=T0))
    async with serve(hub) as base:
        page = await phone(browser, locale)
        await page.goto(f"{base}/d/{hub.token_for('visit-000')}")
        await page.wait_for_function("() => document.body.dataset.status === 'called'")
        assert last not in await page.inner_text("body")
        call = queue.waiting[0].call
        assert call is not None
        events, queue, board = policy.step(queue, board, HN, now=call.deadline)
        assert [e.kind for e in events if isinstance(e, TruckCalled)] == [CallKind.RECALL]
        hub.publish(driver_states(queue, board, HN, now=call.deadline))
        await page.wait_for_function("() => document.body.dataset.status === 'recalled'")
        assert last in await page.inner_text("#called")


async def _events_opened(page: Page) -> list[str]:
    """The page's stream requests, as they are made."""
    opened: list[str] = []
    page.on("request", lambda r: opened.append(r.url) if r.url.endswith("/events") else None)
    return opened


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("vi-VN", "Liên kết này không hợp lệ hoặc không còn hiệu lực"),
        ("zh-CN", "此链接无效或已失效"),
    ],
    ids=["vi", "zh"],
)
async def test_a_page_gone_while_open_says_so_and_stops(
    browser: Browser, locale: str, said: str
) -> None:
    """Before, a page whose truck's page was dropped while it was open (the visit pruned,
    the booking deleted) kept the old data on the screen and, once its stream was refused
    with a 404, said "reconnecting" for ever. The open stream now says `gone`, and the page
    says the link is no longer valid, in the driver's language, and stops."""
    hub = DriverHub(secret=b"test secret")
    hub.publish(driver_states(a_queue(2), Board.for_gate(HN), HN, now=T0))
    async with serve(hub, keep_alive_s=0.5) as base:
        page = await phone(browser, locale)
        await page.goto(f"{base}/d/{hub.token_for('visit-001')}")
        await page.wait_for_function("() => document.body.dataset.status === 'waiting'")
        hub.publish({}, keep=False)  # the pages dropped, the stream still open
        await page.wait_for_function(
            "() => document.body.dataset.status === 'gone'", timeout=10_000
        )
        assert said in await page.inner_text("#gone")
        assert await page.is_hidden("#waiting") and await page.is_hidden("#offline")


async def test_a_stream_refused_with_a_404_stops_reconnecting(browser: Browser) -> None:
    """The stream reopened after a silent line (or a server restart) is answered 404: the
    page was dropped meanwhile. Before, the page said "connection lost, reconnecting" and
    tried again for ever; it now says the link is no longer valid and tries no more."""
    hub = DriverHub(secret=b"test secret")
    hub.publish(driver_states(a_queue(1), Board.for_gate(HN), HN, now=T0))
    source = SilentFirstStream(hub)  # the first stream never says anything more
    async with serve(source, keep_alive_s=0.5) as base:
        page = await phone(browser, "vi-VN")
        opened = await _events_opened(page)
        await page.goto(f"{base}/d/{hub.token_for('visit-000')}")
        await page.wait_for_function("() => document.body.dataset.status === 'waiting'")
        hub.publish({}, keep=False)
        await page.wait_for_function(
            "() => document.body.dataset.status === 'gone'", timeout=20_000
        )
        assert "Liên kết này không hợp lệ" in await page.inner_text("#gone")
        assert await page.is_hidden("#offline")
        tries = len(opened)
        # four keep-alive periods later (a reconnect is due after three): no new try
        await page.wait_for_timeout(2_000)
        assert len(opened) == tries and await page.is_hidden("#offline")


@pytest.mark.parametrize("phone_off", [timedelta(minutes=25), timedelta(minutes=-40)])
async def test_an_expected_call_time_gone_by_is_said_to_be_late_on_the_servers_clock(
    browser: Browser, monkeypatch: pytest.MonkeyPatch, phone_off: timedelta
) -> None:
    """With no event the queue is not stepped, and before, "expected call at about 10:12"
    stayed on the screen after 10:12 as if it were to come. The page says when the estimate
    was made, and past the expected minute that the call is later than estimated; a new
    estimate clears it. "Past" is on the server's clock, which the stream sends (`clock`
    after each state, `alive`): before, it was the phone's, and a phone 25 minutes fast said
    "late" at once, one 40 minutes slow never did. Both clocks are faked here (the server's
    `streams.clock.wall_clock`, the phone's by Playwright): no dependence on today's date."""
    server = [T0 + timedelta(minutes=1)]
    monkeypatch.setattr(clock, "wall_clock", lambda: server[0])
    hub = DriverHub(secret=b"test secret")
    queue, board = a_queue(30), Board.for_gate(HN)
    hub.publish(driver_states(queue, board, HN, now=T0))
    data = json.loads(hub.state(hub.token_for("visit-029")) or "{}")
    expected = datetime.fromisoformat(data["expected_at"])
    assert expected > T0 + timedelta(minutes=2) and data["as_of"] == "10:00"
    # the phone's clock alone: the fast one says late from the start, the slow one never
    phone_at = {"start": server[0] + phone_off, "late": expected + timedelta(minutes=2) + phone_off}
    assert (phone_at["start"] >= expected + timedelta(minutes=1)) is (phone_off > timedelta(0))
    assert phone_at["late"] < expected + timedelta(minutes=1) or phone_off > timedelta(0)
    async with serve(hub, keep_alive_s=0.3) as base:
        page = await phone(browser, "vi-VN")
        await page.clock.set_fixed_time(server[0] + phone_off)
        await page.goto(f"{base}/d/{hub.token_for('visit-029')}")
        await page.wait_for_function("() => document.body.dataset.status === 'waiting'")
        assert await page.inner_text("#as-of") == "(ước tính lúc 10:00)"
        # a few keep-alives heard (each with the server's time): not late by the server
        await page.wait_for_timeout(1_000)
        assert await page.is_hidden("#late")
        server[0] = expected + timedelta(minutes=2)  # nothing moved; the phone's clock stays
        await page.wait_for_function("() => !document.getElementById('late').hidden", timeout=5_000)
        assert "Đã quá thời gian ước tính: bạn chưa được gọi" in await page.inner_text("#late")
        later = expected + timedelta(minutes=2)
        hub.publish(driver_states(queue, board, HN, now=later))  # a new estimate
        await page.wait_for_function("() => document.getElementById('late').hidden")
        assert (
            await page.inner_text("#as-of") == f"(ước tính lúc {later:%H:%M})"
        )  # expected_at: the gate's time


async def test_a_call_past_its_deadline_is_said_late_with_no_event(
    browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A called truck not at the gate by its deadline is recalled at the queue's next step,
    and nothing may step it for a while (event time has no other source). Before, the open
    page showed the call and its time to be there by, gone by, as if still to come. Now,
    past the call's `deadline` by the server's clock (the stream's `clock`, the phone's own
    25 minutes slow), the page says the truck is late and that one more call is all it
    gets; recalled (a new deadline), it no longer does, until that one passes too: then
    that the place is lost unless at the gate. Both clocks are faked (the server's
    `streams.clock.wall_clock`, the phone's by Playwright): no dependence on the date."""
    server = [T0 + timedelta(minutes=1)]
    monkeypatch.setattr(clock, "wall_clock", lambda: server[0])
    hub = DriverHub(secret=b"test secret")
    policy, queue, board = CallForwardPolicy(), a_queue(1), Board.for_gate(HN)
    _, queue, board = policy.step(queue, board, HN, now=T0)
    hub.publish(driver_states(queue, board, HN, now=T0))
    call = queue.waiting[0].call
    assert call is not None
    async with serve(hub, keep_alive_s=0.3) as base:
        page = await phone(browser, "vi-VN")
        await page.clock.set_fixed_time(server[0] - timedelta(minutes=25))
        await page.goto(f"{base}/d/{hub.token_for('visit-000')}")
        await page.wait_for_function("() => document.body.dataset.status === 'called'")
        await page.wait_for_function("() => document.body.dataset.overdue === 'no'")
        assert await page.is_hidden("#overdue")
        server[0] = call.deadline + timedelta(seconds=1)  # no event: the page alone
        await page.wait_for_function("() => document.body.dataset.overdue === 'yes'")
        assert "Đã quá giờ phải có mặt tại cửa khẩu" in await page.inner_text("#overdue")
        _, queue, board = policy.step(queue, board, HN, now=call.deadline)
        hub.publish(driver_states(queue, board, HN, now=call.deadline))
        await page.wait_for_function("() => document.body.dataset.status === 'recalled'")
        await page.wait_for_function("() => document.body.dataset.overdue === 'no'")
        recall = queue.waiting[0].call
        assert recall is not None and recall.deadline > call.deadline
        server[0] = recall.deadline + timedelta(seconds=1)
        await page.wait_for_function("() => document.body.dataset.overdue === 'yes'")
        assert "Đã quá giờ của lần gọi cuối" in await page.inner_text("#overdue")
        await page.context.close()  # its stream, before the server stops
