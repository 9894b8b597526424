"""A driver's page opened by something that names no language (a messenger's link preview
fetching the link the firm forwarded, a script, curl) is shown in English as before, but
is no longer taken for the driver reading it in English. The page's language decides the
language of the driver's call SMS (`driver_pages.language`; none yet: the country of the
mobile, +84 Vietnamese). Found as a stranger: the booking's `driver_page`, fetched once
without Accept-Language as Zalo's or WeChat's preview does, recorded `en`, and the
Vietnamese driver at +84912345678 would have been texted the call in English. SQLite and
PostgreSQL, through the real app."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncEngine

from services.bootstrap import make_call_notifier
from services.db.engine import session_factory
from services.drivers.store import save_pages
from services.notify.routing import CallRouter
from services.notify.sms import FakeSmsSink
from services.service_layer.call_notices import KeepCalls
from streams.calls import call_to_wire
from tests.integration.test_bookings_api import auth, keys, local_slot
from tests.integration.test_call_notifications import T0, call_notice_of, calls_of_a_morning
from tests.integration.test_driver_pages_api import client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
__all__ = ["client", "keys"]  # the fixtures


async def _language(engine: AsyncEngine, token: str) -> str | None:
    async with engine.connect() as connection:
        language: str | None = await connection.scalar(
            sql("SELECT language FROM driver_pages WHERE token = :t"), {"t": token}
        )
    return language


async def _booked(client: httpx.AsyncClient, keys: dict[str, str]) -> tuple[str, str]:
    """Firm a books A-1 for its driver at +84912345678: the booking's id, its page's path."""
    booked = await client.post(
        "/v1/bookings",
        json={
            "manifest_id": "A-1",
            "slot_start": local_slot(1, 10).isoformat(),
            "driver_phone": "+84912345678",
        },
        headers=auth(keys["a"], "k-lang"),
    )
    assert booked.status_code == 201, booked.text
    return booked.json()["booking_id"], httpx.URL(booked.json()["driver_page"]).path


async def test_a_page_fetched_naming_no_language_is_not_taken_for_the_drivers(
    client: httpx.AsyncClient, keys: dict[str, str], engine: AsyncEngine
) -> None:
    _, path = await _booked(client, keys)
    token = path.rsplit("/", 1)[1]
    # a link preview, a script: no Accept-Language, no choice; or one naming none of the
    # page's languages: the page in English, nothing recorded
    for headers in ({"User-Agent": "facebookexternalhit/1.1"}, {"Accept-Language": "fr-FR"}):
        page = await client.get(path, headers=headers)
        assert page.status_code == 200 and '<html lang="en"' in page.text
        assert await _language(engine, token) is None  # the SMS: by the mobile, Vietnamese
    # a browser's language is no choice (an English PC at the firm opened it as well as
    # the driver's phone): nothing recorded; the page's links choose
    await client.get(path, headers={"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.8"})
    assert await _language(engine, token) is None
    await client.get(path, params={"lang": "zh"})
    assert await _language(engine, token) == "zh"
    # the language kept by the phone (the cookie the page's links set) counts as chosen
    client.cookies.set("bf_lang", "en", path="/d")
    await client.get(path)
    assert await _language(engine, token) == "en"


async def test_a_page_opened_on_an_english_pc_leaves_the_drivers_sms_language(
    client: httpx.AsyncClient, keys: dict[str, str], engine: AsyncEngine
) -> None:
    """The firm's clerk opens the booking's driver page on an English PC (Accept-Language
    en-US) before forwarding it; the call's SMS to the driver at +84 is in Vietnamese (the
    mobile's country), through the notifier and the fake SMS sink (before: in English, the
    PC's language recorded as the driver's). The driver's explicit choice on the page
    (its language switch, `?lang=zh`) then decides the next call's SMS."""
    booking_id, path = await _booked(client, keys)
    pc = await client.get(path, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert pc.status_code == 200 and '<html lang="en"' in pc.text
    first, second = calls_of_a_morning(2)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():  # the worker queues the truck
        await save_pages(
            session=session,
            secret=b"unused",
            states={f"booking:{booking_id}": {"status": "waiting"}},
            now=T0,
            visits={f"booking:{booking_id}": first.visit_id},
            only_existing=True,
        )
    sink = FakeSmsSink()
    async with httpx.AsyncClient() as webhooks:  # no firm's webhook: the SMS alone
        worker = make_call_notifier(
            sessions=sessions, notifier=CallRouter(sessions=sessions, client=webhooks, sms=sink)
        )
        await worker.notices.keep(KeepCalls((call_notice_of(call_to_wire(first)),)))
        assert await worker.deliver_due() == 1
        chose = await client.get(path, params={"lang": "zh"}, headers={"Accept-Language": "en"})
        assert '<html lang="zh"' in chose.text
        again = replace(second, visit_id=first.visit_id, call_id=f"{first.visit_id}/call-2")
        await worker.notices.keep(KeepCalls((call_notice_of(call_to_wire(again)),)))
        assert await worker.deliver_due() == 1
    assert [s.to for s in sink.sent] == ["+84912345678"] * 2
    assert sink.sent[0].text.startswith("borderflow: Đến làn"), sink.sent[0].text
    assert sink.sent[1].text.startswith("borderflow：请立即前往口岸"), sink.sent[1].text
