"""A driver's page opened by something that names no language (a messenger's link preview
fetching the link the firm forwarded, a script, curl) is shown in English as before, but
is no longer taken for the driver reading it in English. The page's language decides the
language of the driver's call SMS (`driver_pages.language`; none yet: the country of the
mobile, +84 Vietnamese). Found as a stranger: the booking's `driver_page`, fetched once
without Accept-Language as Zalo's or WeChat's preview does, recorded `en`, and the
Vietnamese driver at +84912345678 would have been texted the call in English. SQLite and
PostgreSQL, through the real app."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.test_bookings_api import auth, keys, local_slot
from tests.integration.test_driver_pages_api import client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
__all__ = ["client", "keys"]  # the fixtures


async def _language(engine: AsyncEngine, token: str) -> str | None:
    async with engine.connect() as connection:
        language: str | None = await connection.scalar(
            sql("SELECT language FROM driver_pages WHERE token = :t"), {"t": token}
        )
    return language


async def test_a_page_fetched_naming_no_language_is_not_taken_for_the_drivers(
    client: httpx.AsyncClient, keys: dict[str, str], engine: AsyncEngine
) -> None:
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
    path = httpx.URL(booked.json()["driver_page"]).path
    token = path.rsplit("/", 1)[1]
    # a link preview, a script: no Accept-Language, no choice; or one naming none of the
    # page's languages: the page in English, nothing recorded
    for headers in ({"User-Agent": "facebookexternalhit/1.1"}, {"Accept-Language": "fr-FR"}):
        page = await client.get(path, headers=headers)
        assert page.status_code == 200 and '<html lang="en"' in page.text
        assert await _language(engine, token) is None  # the SMS: by the mobile, Vietnamese
    # the driver's phone names a language: it is recorded, and the page's links choose too
    await client.get(path, headers={"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.8"})
    assert await _language(engine, token) == "vi"
    await client.get(path)  # another preview afterwards changes nothing
    assert await _language(engine, token) == "vi"
    await client.get(path, params={"lang": "zh"})
    assert await _language(engine, token) == "zh"
    # the language kept by the phone (the cookie the page's links set) counts as chosen
    client.cookies.set("bf_lang", "en", path="/d")
    await client.get(path)
    assert await _language(engine, token) == "en"
