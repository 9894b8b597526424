"""A driver on a Wi-Fi whose codes are refused opens the page with the code and the truck's
plate (services/drivers/code_form.py, guard.py), through the real API app, as a phone's
browser sends the form (GET /d?code=...&plate=...). Before, one person guessing codes on the
waiting area's Wi-Fi (one address for all its phones) spent the address's allowance, and
every honest driver there was refused their own, right code until it refilled: a lockout
anybody could cause. The limiter's clock is the test's: nothing sleeps. SQLite and
PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db.booking_tables import BookingRow
from services.db.engine import session_factory
from services.db.tables import ManifestRow, VisitRow
from services.drivers.guard import CodeGuard
from services.drivers.hub import page_code, page_token
from services.drivers.store import save_pages
from tests.integration.test_driver_code_limit import WRONG, Tick, app_with, phone
from tests.integration.test_driver_pages_api import CHROME_VI, FIREFOX_ZH, T0

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SECRET = b"k" * 32
WIFI = "100.64.0.9"  # the waiting area's Wi-Fi: one public address for every phone on it


async def two_trucks(engine: AsyncEngine) -> None:
    """A booked truck (its manifest: tractor 29C-123.45, trailer 29R-012.34; queued, its
    visit read at the gate as 29C55555, a tractor changed) and a walk-in (read as
    桂A12345), their pages as the booking and the call-forward worker write them."""
    async with session_factory(engine)() as session, session.begin():
        session.add(
            ManifestRow(
                manifest_id="m-1",
                firm_id="firm-a",
                direction="export",
                tractor_plate="29C12345",
                trailer_plate="29R01234",
                customs_status="cleared",
                source="http",
                created_at=T0,
                updated_at=T0,
            )
        )
        session.add(
            BookingRow(
                booking_id="b-1",
                firm_id="firm-a",
                manifest_id="m-1",
                gate_id="huu-nghi",
                direction="export",
                slot_start=T0,
                slot_end=T0,
                perishable=False,
                status="active",
                created_at=T0,
                updated_at=T0,
            )
        )
        for visit_id, plate in (("v-8", "29C55555"), ("v-7", "桂A12345")):
            session.add(
                VisitRow(
                    visit_id=visit_id,
                    gate_id="huu-nghi",
                    direction="import",
                    plate=plate,
                    first_seen_at=T0,
                    last_seen_at=T0,
                    read_count=3,
                )
            )
        await save_pages(
            session=session,
            secret=SECRET,
            states={"booking:b-1": {"status": "queued"}, "v-7": {"status": "queued"}},
            now=T0,
            visits={"booking:b-1": "v-8", "v-7": "v-7"},
        )


def said(page: str) -> str:
    """The form's message to the driver (its alert)."""
    found = re.search(r'<p id="wrong" role="alert">(.*?)</p>', page)
    assert found is not None, page
    return found.group(1)


async def test_a_guesser_on_the_wifi_no_longer_locks_its_drivers_out(
    engine: AsyncEngine,
) -> None:
    """The Wi-Fi's allowance spent by a guesser (3 here), a driver there typing their own,
    right code is refused as before (a lookup would answer the guesser too) but asked for
    the truck's plate, and the code with it opens the page: the booking's tractor or
    trailer plate as typed on a phone (any case, dashes, dots), or the plate its truck was
    read with at the gate, a walk-in's too. A wrong pair is answered the same whether the
    code is a truck's or not. Fails before: the form had no plate, and the right code was
    refused (429) until the bucket refilled."""
    await two_trucks(engine)
    booked, walk_in = page_code(SECRET, "booking:b-1"), page_code(SECRET, "v-7")
    booked_page, walk_in_page = (
        f"/d/{page_token(SECRET, 'booking:b-1')}",
        f"/d/{page_token(SECRET, 'v-7')}",
    )
    tick = Tick()
    app = app_with(engine, CodeGuard(burst=3, per_min=1.0, clock=tick))
    async with phone(app, WIFI) as guesser, phone(app, WIFI) as driver:
        for wrong in WRONG[:3]:
            assert (await guesser.get(f"/d/c/{wrong}")).status_code == 404
        assert (await guesser.get(f"/d/c/{WRONG[3]}")).status_code == 429
        # the driver's right code: refused, and the plate asked for, in Vietnamese
        asked = await driver.get("/d", params={"code": booked}, headers=CHROME_VI)
        assert asked.status_code == 429 and asked.headers["retry-after"] == "60"
        assert "biển số xe của bạn" in said(asked.text)
        assert 'name="plate"' in asked.text and f'value="{booked}"' in asked.text
        # and the page opens with the plate, as a phone types it
        for plate in ("29c-123.45", "29C12345", "29R-012.34", "29r 01234", "29C-555.55"):
            sent = await driver.get(
                "/d", params={"code": booked.lower(), "plate": plate}, headers=CHROME_VI
            )
            assert sent.status_code == 303, (plate, sent.status_code)
            assert sent.headers["location"] == booked_page
        sent = await driver.get(
            "/d", params={"code": walk_in, "plate": "桂A·12345", "lang": "zh"}, headers=CHROME_VI
        )
        assert sent.status_code == 303 and sent.headers["location"] == f"{walk_in_page}?lang=zh"
        # a wrong pair: one answer, the code a truck's or not, and no page
        answers = []
        for code, plate in ((booked, "29C12346"), (WRONG[4], "29C12345")):
            wrong = await guesser.get(
                "/d", params={"code": code, "plate": plate}, headers=FIREFOX_ZH
            )
            assert wrong.status_code == 404 and 'name="plate"' in wrong.text
            answers.append(said(wrong.text))
        assert answers[0] == answers[1] and "没有货车同时使用此代码和此车牌号" in answers[0]
        # codes alone from the Wi-Fi are still refused, unread
        assert (await guesser.get(f"/d/c/{booked}")).status_code == 429


async def test_wrong_pairs_have_their_own_limit_and_the_code_link_asks_for_the_plate(
    engine: AsyncEngine,
) -> None:
    """A refused address's wrong code-and-plate pairs are limited too (2 at once, then 1 a
    minute here; 20 and 10 by default): past that, the pair is not looked up (429), the
    form saying how long to wait (the sooner of the codes' and the pairs'); the code alone
    from another address is looked up as ever. A phone opening `/d/c/{code}` from the
    refused address gets the form with the code typed in and the plate asked for."""
    await two_trucks(engine)
    booked = page_code(SECRET, "booking:b-1")
    tick = Tick()
    guard = CodeGuard(burst=2, per_min=0.1, pair_burst=2, pair_per_min=1.0, clock=tick)
    app = app_with(engine, guard)
    async with phone(app, WIFI) as wifi, phone(app, "198.51.100.20") as elsewhere:
        for wrong in WRONG[:2]:
            assert (await wifi.get(f"/d/c/{wrong}")).status_code == 404
        link = await wifi.get(f"/d/c/{booked}", headers=CHROME_VI)
        assert link.status_code == 429 and link.headers["content-type"].startswith("text/html")
        assert 'name="plate"' in link.text and f'value="{booked}"' in link.text
        api = await wifi.get(f"/d/c/{booked}")  # an API client: the problem, as before
        assert api.status_code == 429 and api.json()["errors"][0]["field"] == "code"
        for plate in ("29C99998", "29C99999"):
            sent = await wifi.get("/d", params={"code": booked, "plate": plate}, headers=CHROME_VI)
            assert sent.status_code == 404
        held = await wifi.get("/d", params={"code": booked, "plate": "29C12345"}, headers=CHROME_VI)
        assert held.status_code == 429 and held.headers["retry-after"] == "60"
        assert "biển số" in said(held.text) and "đợi 1 phút" in said(held.text)
        assert (await elsewhere.get(f"/d/c/{booked}")).status_code == 303
        tick.now += 60.0  # one wrong pair back (a code comes back in 10 minutes)
        assert guard.wait(WIFI) > 0
        right = await wifi.get("/d", params={"code": booked, "plate": "29C12345"})
        assert right.status_code == 303
        # an empty plate, or one no plate could be, is asked for again and costs no try
        for plate in ("", " - . ", "x" * 65):
            again = await wifi.get("/d", params={"code": WRONG[0], "plate": plate})
            assert again.status_code == 429 and 'name="plate"' in again.text
        assert guard.pair_wait(WIFI) == 0
