"""The drivers' pages in the real API app (issue 23), as a firm and its driver use them:
a booking's answer carries its driver's page link; the page loads from the link alone (no
key), shows "booked", then what the call-forward worker writes (here: its store, as the
worker does), and its stream's source follows; another booking's link never shows this truck; a bad
token or code is a 404 problem; the driver checks the truck in from the page. SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import ValidationError
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db import booking_arrivals as arrivals
from services.db.driver_pages import booking_page_key
from services.db.engine import session_factory
from services.drivers.store import PAGE_KEEP, DbPages, purge_pages, save_pages
from services.runtime.settings import Settings
from streams import clock
from tests.integration.test_bookings_api import (
    _book,
    auth,
    keys,
    local_slot,
    make_client,
    problem,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
__all__ = ["keys"]  # the fixture, used by the tests below

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest_asyncio.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(engine) as c:  # the app's own (random) drivers' secret
        yield c


async def worker_writes(engine: AsyncEngine, states: dict[str, dict[str, Any]]) -> None:
    """What the call-forward worker does: the pages (made at booking) get new data."""
    async with session_factory(engine)() as session, session.begin():
        changed = await save_pages(
            session=session, secret=b"unused", states=states, now=T0, only_existing=True
        )
    assert changed == len(states)


@pytest.mark.parametrize("configured", ["https://border.example/trucks/", "http://10.0.0.5:8080"])
async def test_the_drivers_page_is_under_the_configured_public_url(
    engine: AsyncEngine, keys: dict[str, str], configured: str
) -> None:
    """Before, `driver_page` was a path (`/d/...`), which a firm's system texting it to the
    driver had to complete with a host it had to know. It is absolute: under
    BORDERFLOW_PUBLIC_URL when set (a proxy's public name), else the request's base URL."""
    at = local_slot(1, 10)
    async with make_client(engine, public_url=Settings(public_url=configured).public_url) as c:
        made = (await _book(c, keys["a"], "A-1", at, "k-public")).json()
        link = made["driver_page"]
        assert link.startswith(configured.rstrip("/") + "/d/"), link
        token = link.removeprefix(configured.rstrip("/") + "/d/")
        assert (await c.get(f"/d/{token}/state")).json()["status"] == "booked"
        read = await c.get(f"/v1/bookings/{made['booking_id']}", headers=auth(keys["a"]))
        assert read.json()["driver_page"] == link


@pytest.mark.parametrize(
    "bad", ["border.example", "ftp://border.example", "https://b.example/?a=1"]
)
def test_a_public_url_that_cannot_be_a_links_base_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="public_url"):
        Settings(public_url=bad)


async def test_a_booking_carries_its_drivers_page_which_shows_only_that_truck(
    client: httpx.AsyncClient, keys: dict[str, str], engine: AsyncEngine
) -> None:
    at = local_slot(1, 10)
    mine = (await _book(client, keys["a"], "A-1", at, "k-1")).json()
    theirs = (await _book(client, keys["b"], "B-1", at, "k-2")).json()
    link, other = mine["driver_page"], theirs["driver_page"]
    # absolute (a firm's system texts it on as it is): here under the request's base URL
    base = "http://borderflow.test/d/"
    assert link.startswith(base) and other.startswith(base) and link != other
    assert mine["booking_id"] not in link
    # the same link on reading the booking, and on a retried create
    read = await client.get(f"/v1/bookings/{mine['booking_id']}", headers=auth(keys["a"]))
    assert read.json()["driver_page"] == link
    again = await _book(client, keys["a"], "A-1", at, "k-1")
    assert again.json()["driver_page"] == link

    page = await client.get(link, headers={"Accept-Language": "vi-VN,vi;q=0.9"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'lang="vi"' in page.text
    booked = (await client.get(f"{link}/state")).json()
    assert booked["status"] == "booked"
    start = datetime.fromisoformat(booked["slot_start"])  # the gate's time: UTC+7
    assert start == datetime.fromisoformat(mine["slot_start"])
    assert start.utcoffset() == timedelta(hours=7)

    # the call-forward worker writes both pages (by booking): each shows its own only
    await worker_writes(
        engine,
        {
            booking_page_key(mine["booking_id"]): {"status": "waiting", "position": 1},
            booking_page_key(theirs["booking_id"]): {
                "status": "called",
                "lane_id": "EX-2",
                "way": "lane",
            },
        },
    )
    assert (await client.get(f"{link}/state")).json() == {"status": "waiting", "position": 1}
    seen_by_other = (await client.get(f"{other}/state")).text
    assert "position" not in seen_by_other and "EX-2" in seen_by_other
    for text in (seen_by_other, (await client.get(other)).text):
        assert mine["booking_id"] not in text and "A-1" not in text and "firm-a" not in text


async def test_the_pages_stream_source_follows_the_workers_writes(
    client: httpx.AsyncClient, keys: dict[str, str], engine: AsyncEngine
) -> None:
    """What `/d/{token}/events` streams (ASGI transport buffers a stream, so the source
    behind it is watched here): the worker's write reaches an open page within 2 s."""
    mine = (await _book(client, keys["a"], "A-1", local_slot(1, 10), "k-1")).json()
    token = mine["driver_page"].removeprefix("http://borderflow.test/d/")
    pages = DbPages(lambda: session_factory(engine))
    assert json.loads(await pages.state(token) or "null")["status"] == "booked"
    async with pages.watch(token) as changed:
        assert await changed(0.3) is None  # nothing new yet
        await worker_writes(
            engine, {booking_page_key(mine["booking_id"]): {"status": "waiting", "position": 2}}
        )
        started = time.monotonic()
        assert json.loads(await changed(15.0) or "null") == {"status": "waiting", "position": 2}
        print(f"page changed {time.monotonic() - started:.2f} s after the write (target 2 s)")


async def test_a_bad_token_or_code_is_a_404_problem(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    mine = (await _book(client, keys["a"], "A-1", local_slot(1, 10), "k-1")).json()
    token = mine["driver_page"].removeprefix("http://borderflow.test/d/")
    for path in (
        f"/d/{token[:-1]}x",
        "/d/not-a-token",
        f"/d/{token[:-1]}x/state",
        f"/d/{token[:-1]}x/events",
        "/d/c/ZZZZZZZZ",
    ):
        problem(await client.get(path), 404)


async def test_the_driver_checks_in_from_the_page_with_the_link_alone(
    client: httpx.AsyncClient, keys: dict[str, str], engine: AsyncEngine
) -> None:
    """Issue 23: "checked in with its booking", from the driver's phone: the booked page
    offers the check-in; posting it (the link is the only credential) records the
    booking's `booking.checked_in` event, as the firm's route does; a bad token is a 404,
    a cancelled booking's check-in a 409 problem."""
    mine = (await _book(client, keys["a"], "A-1", local_slot(1, 10), "k-1")).json()
    link = mine["driver_page"]
    page = await client.get(link, headers={"Accept-Language": "vi"})
    assert 'id="check-in"' in page.text and "Tôi đã ở bãi chờ" in page.text

    checked = await client.post(f"{link}/check-in")
    again = await client.post(f"{link}/check-in")  # a double tap: one event

    assert checked.status_code == 200
    assert checked.json() | {"at": "-"} == {"checked_in": True, "recorded": True, "at": "-"}
    # the repeat says that nothing more was recorded, and which check-in stands
    assert again.status_code == 200
    assert again.json() == {"checked_in": True, "recorded": False, "at": checked.json()["at"]}
    assert again.headers["check-in-repeated"] == checked.json()["at"]
    # in UTC spelt as every other time of the API and as the OpenAPI example
    # ("2026-12-05T08:00:00Z"); it was "...+00:00" until 2026-12-05
    assert checked.json()["at"].endswith("Z") and "+" not in checked.json()["at"]
    async with session_factory(engine)() as session:
        types = (
            await session.execute(
                sql("SELECT type FROM booking_events WHERE booking_id = :b ORDER BY seq"),
                {"b": mine["booking_id"]},
            )
        ).scalars()
        assert list(types) == ["booking.created", "booking.checked_in"]
    problem(await client.post(f"{link[:-1]}x/check-in"), 404)
    cancel = await client.post(f"/v1/bookings/{mine['booking_id']}/cancel", headers=auth(keys["a"]))
    assert cancel.status_code == 200
    refused = problem(await client.post(f"{link}/check-in"), 409)
    assert "only an active booking can be checked in" in refused["detail"]


async def test_a_drivers_mobile_not_in_e164_is_refused_naming_the_field(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    body = {"manifest_id": "A-1", "slot_start": local_slot(1, 10).isoformat()}
    for phone in ("0912345678", "+84 912 345 678", "+0912345678", "+8491234567890123"):
        refused = await client.post(
            "/v1/bookings", json=body | {"driver_phone": phone}, headers=auth(keys["a"], phone)
        )
        said = problem(refused, 422)
        assert "driver_phone" in said["detail"]
        # what E.164 is, not the regex ("String should match pattern '^\\+[1-9]...'")
        assert said["errors"] == [
            {
                "field": "driver_phone",
                "message": f"{phone!r} is not an E.164 number: '+', the country code, then "
                "the number, digits only, no spaces or leading 0 (e.g. +84912345678, "
                "+8613812345678)",
            }
        ]
    booked = await client.post(
        "/v1/bookings", json=body | {"driver_phone": "+84912345678"}, headers=auth(keys["a"], "k")
    )
    assert booked.status_code == 201, booked.text
    assert "+84912345678" not in booked.text  # kept with the page, not shown back


async def test_pages_not_written_for_30_days_are_dropped(
    client: httpx.AsyncClient, keys: dict[str, str], engine: AsyncEngine
) -> None:
    """The page list does not grow for ever: the booking outbox's hourly purge drops the
    pages not written for PAGE_KEEP (30 days; a wall-clock retention); their links then
    answer 404. A page written since is kept."""
    old = (await _book(client, keys["a"], "A-1", local_slot(1, 10), "k-1")).json()
    later = datetime.now(UTC) + PAGE_KEEP + timedelta(hours=1)
    async with session_factory(engine)() as session, session.begin():
        await save_pages(
            session=session,
            secret=b"unused",
            states={booking_page_key("bk-recent"): {"status": "booked"}},
            now=later - timedelta(days=1),
        )
    async with session_factory(engine)() as session, session.begin():
        assert await purge_pages(session=session, now=later) == 1
    problem(await client.get(f"{old['driver_page']}/state"), 404)
    async with session_factory(engine)() as session:
        kept = await session.execute(sql("SELECT page_key FROM driver_pages"))
        assert list(kept.scalars()) == [booking_page_key("bk-recent")]


async def test_a_cancelled_bookings_page_says_so_and_a_queued_trucks_is_left_to_the_worker(
    client: httpx.AsyncClient, keys: dict[str, str], engine: AsyncEngine
) -> None:
    """Before, a cancelled booking's page went on saying "booked: drive to the waiting
    area" with its check-in button, in the driver's language; a page the call-forward
    worker has written (the truck queued) is the worker's to word (its lost place)."""
    booked = (await _book(client, keys["a"], "A-1", local_slot(1, 10), "k-1")).json()
    queued = (await _book(client, keys["a"], "A-2", local_slot(1, 10), "k-2")).json()
    await worker_writes(
        engine, {booking_page_key(queued["booking_id"]): {"status": "waiting", "position": 1}}
    )
    for booking in (booked, queued):
        cancel = await client.post(
            f"/v1/bookings/{booking['booking_id']}/cancel", headers=auth(keys["a"])
        )
        assert cancel.status_code == 200, cancel.text

    link = booked["driver_page"]
    assert (await client.get(f"{link}/state")).json() == {"status": "cancelled"}
    page = await client.get(link, headers={"Accept-Language": "vi"})
    assert 'id="cancelled"' in page.text and "Lịch đặt này đã bị hủy" in page.text
    waiting = (await client.get(f"{queued['driver_page']}/state")).json()
    assert waiting == {"status": "waiting", "position": 1}


async def test_a_bookings_page_follows_it_used_lost_late_or_not_shown(
    client: httpx.AsyncClient, keys: dict[str, str], engine: AsyncEngine
) -> None:
    """Before, a booking the gate ended (used by its truck, lost by a truck more than the
    grace late, not shown) left its page saying "booked: drive to the waiting area" with
    its check-in button, and a tap on it showed the API's English 409. The page now says
    so, in the transaction that ends the booking (here: the decider's calls, as it makes
    them), in the driver's language, and the check-in's refusal carries the page's words;
    a page the call-forward worker wrote (the truck queued, at the gate) stays its."""
    at = local_slot(1, 10)
    made = {m: (await _book(client, keys["a"], m, at, f"k-{m}")).json() for m in ("A-1", "A-2")}
    made |= {m: (await _book(client, keys["a"], m, at, f"k-{m}")).json() for m in ("A-3", "A-P")}
    made["B-1"] = (await _book(client, keys["b"], "B-1", at, "k-B-1")).json()
    await worker_writes(
        engine,
        {
            booking_page_key(made["A-P"]["booking_id"]): {"status": "at_gate"},
            booking_page_key(made["B-1"]["booking_id"]): {"status": "waiting", "position": 1},
        },
    )
    end = datetime.fromisoformat(made["A-1"]["slot_end"])
    async with session_factory(engine)() as session, session.begin():  # the decider's batch
        await arrivals.booking_for_arrival(
            session=session, manifest_ids=["A-2"], at=end + timedelta(minutes=61)
        )
        assert await arrivals.mark_used(session=session, manifest_ids=["A-1", "A-P"], at=end) == 2
        await arrivals.expire_bookings(session=session, now=end + timedelta(minutes=61))

    async def state(manifest: str) -> dict[str, Any]:
        answer = await client.get(f"{made[manifest]['driver_page']}/state")
        return dict(answer.json())

    assert await state("A-1") == {"status": "used"}
    assert await state("A-2") == {"status": "lost_late"}
    assert await state("A-3") == {"status": "no_show"}
    assert await state("A-P") == {"status": "at_gate"}  # the worker's: kept
    assert await state("B-1") == {"status": "waiting", "position": 1}  # the worker's: kept

    page = await client.get(made["A-3"]["driver_page"], headers={"Accept-Language": "zh-CN"})
    assert 'id="no_show"' in page.text and "您预约的时段已过" in page.text
    refused = await client.post(
        f"{made['A-3']['driver_page']}/check-in", headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    )
    body = problem(refused, 409)
    assert "only an active booking can be checked in" in body["detail"]  # the API's, as before
    assert body["message"].startswith("您预约的时段已过")
    assert refused.headers["content-language"] == "zh"
    for manifest, lang, words in (
        ("A-1", "vi", "Lịch đặt này đã được dùng"),
        ("A-2", "en", "Your truck came after its booked slot"),
    ):
        refused = await client.post(f"{made[manifest]['driver_page']}/check-in?lang={lang}")
        assert problem(refused, 409)["message"].startswith(words)


# What phone browsers send when the driver opens a link (navigation requests)
CHROME_VI = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "Accept-Language": "vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7",
}
FIREFOX_ZH = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.8,zh-TW;q=0.7,zh-HK;q=0.5,en-US;q=0.3,en;q=0.2",
}
SAFARI_EN = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-GB,en;q=0.9",
}


async def test_a_bad_link_or_code_opened_in_a_browser_is_a_page_in_its_language(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    """Before, a wrong or expired link or short code opened on a phone showed the raw
    English JSON problem. A request that prefers HTML gets a small 404 page in the
    browser's language saying what to do; an API client's answer is the problem as
    before."""
    mine = (await _book(client, keys["a"], "A-1", local_slot(1, 10), "k-1")).json()
    bad = f"{mine['driver_page'][:-1]}x"
    for path in (bad, "/d/c/ZZZZZZZZ"):
        for headers, lang, words in (
            (CHROME_VI, "vi", "Liên kết này không hợp lệ"),
            (FIREFOX_ZH, "zh", "此链接无效"),
            (SAFARI_EN, "en", "This link is not valid"),
        ):
            answer = await client.get(path, headers=headers)
            assert answer.status_code == 404, answer.text
            assert answer.headers["content-type"].startswith("text/html")
            assert answer.headers["content-language"] == lang
            assert f'<html lang="{lang}">' in answer.text and words in answer.text
            assert "{{" not in answer.text and "no such" not in answer.text
    for accept in (
        "application/json",
        "*/*",
        "application/problem+json",
        "application/json, text/html;q=0.5",
        "application/json, text/html",
    ):
        for path in (bad, "/d/c/ZZZZZZZZ"):
            problem(await client.get(path, headers={"Accept": accept}), 404)
    # the good link and code still answer as before
    assert (await client.get(mine["driver_page"], headers=CHROME_VI)).status_code == 200


async def test_a_booked_page_holds_its_slot_in_the_gates_local_time(
    client: httpx.AsyncClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the page of a booked truck did not say when its slot is. Its data holds the
    slot's start and end in the gate's local time (Huu Nghi: UTC+7), made with the booking
    and moved with a reschedule while the page still says "booked". The API's clock is
    fixed: nothing here depends on today's date."""
    monkeypatch.setattr(clock, "wall_clock", lambda: datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    slot = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 10:00 at the gate
    booked = await _book(client, keys["a"], "A-1", slot, "k-1")
    assert booked.status_code == 201, booked.text
    link, booking_id = booked.json()["driver_page"], booked.json()["booking_id"]
    assert (await client.get(f"{link}/state")).json() == {
        "status": "booked",
        "slot_start": "2026-11-24T10:00:00+07:00",
        "slot_end": "2026-11-24T11:00:00+07:00",
    }
    moved = await client.post(
        f"/v1/bookings/{booking_id}/reschedule",
        json={"slot_start": "2026-11-24T14:00:00+07:00"},
        headers=auth(keys["a"]),
    )
    assert moved.status_code == 200, moved.text
    state = (await client.get(f"{link}/state")).json()
    assert (state["slot_start"], state["slot_end"]) == (
        "2026-11-24T14:00:00+07:00",
        "2026-11-24T15:00:00+07:00",
    )
    page = await client.get(link, headers={"Accept-Language": "zh-CN"})
    assert 'id="booked-slot"' in page.text and "口岸当地时间" in page.text


async def test_the_short_code_is_found_however_the_driver_types_it(
    client: httpx.AsyncClient, keys: dict[str, str], engine: AsyncEngine
) -> None:
    """The code printed at the waiting area, typed on a phone: in lower case, in two groups
    with a space or a hyphen, or in a Chinese input method's full-width letters. Before,
    only surrounding spaces and lower case were forgiven: `ab12 cd34` was a 404."""
    mine = (await _book(client, keys["a"], "A-1", local_slot(1, 10), "k-1")).json()
    async with engine.connect() as connection:
        code = (
            await connection.execute(
                sql("SELECT code FROM driver_pages WHERE page_key = :key"),
                {"key": booking_page_key(mine["booking_id"])},
            )
        ).scalar_one()
    wide = "".join(chr(ord(ch) + 0xFEE0) for ch in code.lower())  # ａｂ１２...
    for typed in (
        code,
        code.lower(),
        f" {code[:4].lower()} {code[4:].lower()} ",
        f"{code[:4]}-{code[4:]}",
        wide,
    ):
        answer = await client.get(f"/d/c/{typed}", headers=CHROME_VI)
        assert answer.status_code == 303, (typed, answer.text)
        assert answer.headers["location"] == httpx.URL(mine["driver_page"]).path
        # the same, typed into the form at /d (the app's own page source: the database)
        sent = await client.get("/d", params={"code": typed}, headers=CHROME_VI)
        assert sent.status_code == 303, (typed, sent.text)
        assert sent.headers["location"] == httpx.URL(mine["driver_page"]).path
    for wrong in (code[:-1], f"{code}2", "ZZZZ ZZZZ", "--", "%20"):
        assert (await client.get(f"/d/c/{wrong}", headers=CHROME_VI)).status_code == 404
        sent = await client.get("/d", params={"code": wrong}, headers=CHROME_VI)
        # a code's shape that no truck has; else, what a code is made of (not looked up)
        said = "Không có xe nào có mã này" if wrong == "ZZZZ ZZZZ" else "Mã gồm 8 ký tự"
        assert sent.status_code == 404 and said in sent.text


async def test_the_pages_lang_is_taken_in_any_case_and_an_unknown_one_passed_over(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    """`?lang=` as a person or another system writes it: `ZH-cn`, `VI`; an unknown or
    long one (`vietnamese`) is passed over for the browser's language. Before, `ZH-cn`
    was passed over and `vietnamese` was a 422 problem in English JSON on the phone."""
    link = (await _book(client, keys["a"], "A-1", local_slot(1, 10), "k-1")).json()["driver_page"]
    for query, accept_language, lang in (
        ("ZH-cn", "vi-VN", "zh"),
        ("VI", "zh-CN", "vi"),
        ("vietnamese", "zh-CN", "zh"),
        ("fr", "vi", "vi"),
        ("x" * 200, "", "en"),
    ):
        client.cookies.clear()  # each a phone of its own: none kept a language chosen before
        page = await client.get(
            link, params={"lang": query}, headers={**CHROME_VI, "Accept-Language": accept_language}
        )
        assert page.status_code == 200, (query, page.text)
        assert f'<html lang="{lang}">' in page.text, query
