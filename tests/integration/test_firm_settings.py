"""`/v1/firm/settings` as a firm's client meets it: a webhook URL is refused when its stored
(normalised) form would be longer than the limit, and a URL stored under older rules is
answered, never a 500 (found by a schema-driven client, schemathesis, 2026-12-05)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db.driver_tables import FirmSettingsRow
from services.db.engine import session_factory
from tests.integration.test_bookings_api import add_firms, auth, make_client

pytestmark = pytest.mark.integration

# 2,000 characters as sent (the limit); normalised (a '/' path added) 2,001
LONG = "https://firm.example?" + "q" * (2000 - 21)


async def test_a_url_too_long_once_normalised_is_refused_and_get_still_answers(
    engine: AsyncEngine,
) -> None:
    assert len(LONG) == 2000
    keys = await add_firms(engine, ["firm-a"])
    async with make_client(engine) as api:
        put = await api.put(
            "/v1/firm/settings", json={"webhook_url": LONG}, headers=auth(keys["firm-a"])
        )
        assert put.status_code == 422, put.text
        assert put.headers["content-type"] == "application/problem+json"
        assert put.json()["errors"][0]["field"] == "webhook_url"
        assert "once normalised" in put.text
        got = await api.get("/v1/firm/settings", headers=auth(keys["firm-a"]))
        assert got.status_code == 200 and got.json() == {"webhook_url": None}


async def test_a_url_stored_under_older_rules_is_shown_to_be_replaced(
    engine: AsyncEngine,
) -> None:
    """A private address was taken before the public-host rule: the firm reads it back."""
    keys = await add_firms(engine, ["firm-a"])
    async with session_factory(engine)() as session, session.begin():
        session.add(
            FirmSettingsRow(
                firm_id="firm-a",
                webhook_url="http://10.1.2.3/hook",
                updated_at=datetime(2026, 11, 23, tzinfo=UTC),
            )
        )
    async with make_client(engine) as api:
        got = await api.get("/v1/firm/settings", headers=auth(keys["firm-a"]))
        assert got.status_code == 200, got.text
        assert got.json() == {"webhook_url": "http://10.1.2.3/hook"}
