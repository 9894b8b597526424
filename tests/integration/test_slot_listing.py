"""`GET /v1/slots` from inside a slot: the slot holding `from` is listed, `open` as the
booking rule says (a slot that has begun is not bookable), over HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from streams import clock
from tests.integration.test_bookings_api import add_firms, auth, make_client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

# 2027-03-10 09:30 at the gate (+07:00): inside the 09:00 slot
NOW = datetime(2027, 3, 10, 2, 30, tzinfo=UTC)
LOCAL = timedelta(hours=7)


def starts(body: dict[str, object]) -> list[tuple[datetime, bool]]:
    slots = body["slots"]
    assert isinstance(slots, list)
    return [(datetime.fromisoformat(s["slot_start"]), s["open"]) for s in slots]


async def test_listing_from_inside_a_slot_lists_that_slot_open_or_not_by_the_rule(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listing from 09:30 left out the 09:00 slot: a firm could not tell a slot in progress
    (not bookable: it has begun) from one it may still book (the same 09:00 slot tomorrow)."""
    monkeypatch.setattr(clock, "wall_clock", lambda: NOW)
    keys = await add_firms(engine, ["firm-a"])
    nine = datetime(2027, 3, 10, 9, tzinfo=UTC) - LOCAL
    async with make_client(engine) as client:
        today = await client.get(
            "/v1/slots",
            params={"direction": "export", "from": NOW.isoformat()},
            headers=auth(keys["firm-a"]),
        )
        assert today.status_code == 200, today.text
        # the slot in progress is there, and not open: it has begun (10:00 is past its
        # cut-off, 30 min before, and 11:00 is open)
        hour = timedelta(hours=1)
        assert starts(today.json())[:3] == [
            (nine, False),
            (nine + hour, False),
            (nine + 2 * hour, True),
        ]

        tomorrow = await client.get(
            "/v1/slots",
            params={
                "direction": "export",
                "from": (NOW + timedelta(days=1)).isoformat(),
                "to": (NOW + timedelta(days=1, hours=1)).isoformat(),
            },
            headers=auth(keys["firm-a"]),
        )
        assert tomorrow.status_code == 200, tomorrow.text
        # 09:30 tomorrow: the 09:00 slot may still be booked, and 10:00 starts in range
        day = timedelta(days=1)
        assert starts(tomorrow.json()) == [
            (nine + day, True),
            (nine + day + timedelta(hours=1), True),
        ]
