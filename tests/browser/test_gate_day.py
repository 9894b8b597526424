"""The control room says which day the gate's clock is on, and its header fits a phone.

Found by a tester as a stranger lane controller (2026-12-06) feeding plate reads of
2025-09-02 (a camera gateway sending a past day): the header said "gate time 08:15:00
UTC+07:00" and the KPIs "trucks in today", and nothing on the page said that the gate's
"today" was 2025-09-02, not the day on the wall. On a phone (390 px wide) the header did not
wrap: the controller's name, Log out and the session's end lay past the right edge, and the
page was laid out 504 px wide.

The gate's clock is the newest read: a visit read at 06:30 local on 2025-09-02, which is
still 2025-09-01 in UTC, is written before the API starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from services.bootstrap import Infrastructure
from services.db.board_tables import LaneEventRow
from tests.browser.test_control_room import log_in
from tests.browser.test_review_order import in_review
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]

EARLY = datetime(2025, 9, 1, 23, 30, tzinfo=UTC)  # 2025-09-02 06:30 at Huu Nghi (UTC+07:00)
EVE = datetime(2025, 9, 1, 2, 45, tzinfo=UTC)  # 2025-09-01 09:45 there: the day before


async def read_early(infra: Infrastructure) -> None:
    async with infra.sessions() as session, session.begin():
        session.add_all(in_review("29H30002", arrived=EARLY, decided=EARLY, clock=EARLY))


async def two_days(infra: Infrastructure) -> None:
    async with infra.sessions() as session, session.begin():
        session.add_all(in_review("29H30001", arrived=EVE, decided=EVE, clock=EVE))
        session.add_all(in_review("29H30002", arrived=EARLY, decided=EARLY, clock=EARLY))


async def test_a_time_of_another_day_than_the_gates_gives_its_date(
    browser: Browser, tmp_path: Path
) -> None:
    """Found the same way: past midnight (gate time) the review queue and the latest
    decisions listed yesterday's 09:45 below today's 00:10, both as bare times."""
    async with api_on_a_port(tmp_path, seed=two_days) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        await expect(page.locator("#clock-date")).to_have_text("2025-09-02")
        yesterday = page.locator('[data-review="v-29H30001"]')
        await expect(yesterday).to_contain_text("· 2025-09-01 09:45")
        await expect(yesterday.locator(".waits")).to_have_attribute(
            "title", "arrived 2025-09-01 09:45 gate time"
        )
        today = page.locator('[data-review="v-29H30002"]')
        await expect(today).to_contain_text("· 06:30")
        await expect(today).not_to_contain_text("2025")
        recent = page.locator("#recent-items")
        await expect(recent).to_contain_text("2025-09-01 09:45:00 29H30001")
        await expect(recent).to_contain_text("06:30:00 29H30002")


async def test_the_header_names_the_gates_day(browser: Browser, tmp_path: Path) -> None:
    async with api_on_a_port(tmp_path, seed=read_early) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        await expect(page.locator("#clock")).to_have_text("gate time 06:30:00")
        await expect(page.locator("#clock-date")).to_have_text("2025-09-02")


async def test_the_header_fits_a_phone(browser: Browser, tmp_path: Path) -> None:
    async with api_on_a_port(tmp_path, seed=read_early) as port:
        context = await browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        page = await context.new_page()
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        await expect(page.locator("#who-name")).to_have_text("ana")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is laid out {width} px wide on a 390 px phone"
        for part in ("#logout", "#session-until", "#clock-zone"):
            box = await page.locator(part).bounding_box()
            assert box is not None, part
            assert box["x"] + box["width"] <= 390, f"{part} ends at {box['x'] + box['width']} px"
        await context.close()


async def held_closure(infra: Infrastructure) -> None:
    """The gate at 2025-09-02 06:30 and a gateway's closure of HN-E1 dated a day later:
    held until the reads reach it (services/service_layer/lane_events.py, LEAD)."""
    await read_early(infra)
    ahead = EARLY + timedelta(days=1, hours=2)  # 2025-09-03 08:30 at the gate
    closure = {
        "event_id": "le-ahead",
        "gate_id": "huu-nghi",
        "kind": "lane_closed",
        "at": ahead.isoformat(),
        "lane_id": "HN-E1",
        "reason": "maintenance",
        "actor": "gateway",
    }
    async with infra.sessions() as session, session.begin():
        session.add(
            LaneEventRow(
                event_id="le-ahead",
                gate_id="huu-nghi",
                kind="lane_closed",
                at=ahead,
                payload=closure,
                received_at=EARLY,
                held=True,
            )
        )


async def test_a_lane_event_held_ahead_of_the_gates_clock_is_shown(
    browser: Browser, tmp_path: Path
) -> None:
    """A lane event dated more than an hour ahead of the gate's reads is held until they
    reach it (cda49ee); the control room showed the board without it and said nothing, so a
    controller who saw HN-E1 open could not tell that a closure for it had come. Now the
    page lists the held events, with their gate date and time, above the lanes."""
    async with api_on_a_port(tmp_path, seed=held_closure) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        held = page.locator("#held-events")
        await expect(held).to_be_visible()
        await expect(held).to_contain_text("HN-E1 closes 2025-09-03 08:30")
        await expect(held).to_contain_text("applied when the gate's reads reach")


async def test_no_held_event_no_notice(browser: Browser, tmp_path: Path) -> None:
    async with api_on_a_port(tmp_path, seed=read_early) as port:
        page = await browser.new_page(viewport={"width": 1280, "height": 720})
        await log_in(page, f"http://127.0.0.1:{port}", "ana")
        await expect(page.locator("#clock-date")).to_have_text("2025-09-02")
        await expect(page.locator("#held-events")).to_be_hidden()
