"""`POST /v1/bookings/{id}/cancel` and `.../check-in` take no body: left out, `{}` or `null`
they answer as before; a body with a member (`{"reason": "..."}`) is a 422 naming it and
changes nothing, a body that is not JSON a 415, as every other operation answers. Both
ignored any body: a client sending a reason believed it was kept, and one sending the
wrong body (a reschedule's) believed it was used. Over HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db.booking_tables import BookingEventRow
from services.db.engine import session_factory
from tests.integration.test_bookings_api import (
    _book,
    add_firms,
    add_manifests,
    auth,
    local_slot,
    make_client,
    problem,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest_asyncio.fixture
async def firm(engine: AsyncEngine) -> str:
    key = (await add_firms(engine, ["firm-a"]))["firm-a"]
    await add_manifests(engine, "firm-a", ["A-1", "A-2"])
    return key


@pytest_asyncio.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(engine) as c:
        yield c


async def _events(engine: AsyncEngine, booking_id: str) -> list[str]:
    async with session_factory(engine)() as session:
        rows = await session.scalars(
            select(BookingEventRow.type).where(BookingEventRow.booking_id == booking_id)
        )
        return sorted(rows)


async def _booking(client: httpx.AsyncClient, key: str, manifest_id: str) -> str:
    booked = await _book(client, key, manifest_id, local_slot(1, 10), f"k-{manifest_id}")
    assert booked.status_code == 201, booked.text
    return str(booked.json()["booking_id"])


@pytest.mark.parametrize("operation", ["cancel", "check-in"])
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "the truck broke down"}, "reason"),
        ({"slot_start": "2026-12-07T10:00:00+07:00"}, "slot_start"),
        ([], "body"),
        ("cancel", "body"),
    ],
)
async def test_a_body_with_something_in_it_is_refused_naming_it(  # noqa: PLR0917 (fixtures)
    client: httpx.AsyncClient,
    firm: str,
    engine: AsyncEngine,
    operation: str,
    body: Any,
    field: str,
) -> None:
    booking_id = await _booking(client, firm, "A-1")
    before = await _events(engine, booking_id)
    path = f"/v1/bookings/{booking_id}/{operation}"
    refused = problem(await client.post(path, json=body, headers=auth(firm)), 422)
    assert refused["type"] == "urn:borderflow:problem:invalid-request"
    assert [e["field"] for e in refused["errors"]] == [field]
    # nothing done: the booking as it was, no event
    answer = await client.get(f"/v1/bookings/{booking_id}", headers=auth(firm))
    assert answer.json()["status"] == "active" and answer.json()["version"] == 1
    assert await _events(engine, booking_id) == before


@pytest.mark.parametrize("operation", ["cancel", "check-in"])
async def test_a_body_that_is_not_json_is_a_415(
    client: httpx.AsyncClient, firm: str, operation: str
) -> None:
    booking_id = await _booking(client, firm, "A-1")
    sent = await client.post(
        f"/v1/bookings/{booking_id}/{operation}",
        content=b"reason=broke down",
        headers=auth(firm) | {"Content-Type": "text/plain"},
    )
    assert problem(sent, 415)["errors"][0]["field"] == "Content-Type"


@pytest.mark.parametrize("operation", ["cancel", "check-in"])
@pytest.mark.parametrize(
    "send",
    [
        {},
        {"json": {}},
        {"content": b"null", "headers": {"Content-Type": "application/json"}},
        {"content": b"", "headers": {"Content-Type": "application/json"}},
    ],
    ids=["no body", "{}", "null", "empty"],
)
async def test_no_body_or_an_empty_one_answers_as_before(
    client: httpx.AsyncClient, firm: str, operation: str, send: dict[str, Any]
) -> None:
    booking_id = await _booking(client, firm, "A-2")
    headers = auth(firm) | send.get("headers", {})
    rest = {k: v for k, v in send.items() if k != "headers"}
    answer = await client.post(f"/v1/bookings/{booking_id}/{operation}", headers=headers, **rest)
    assert answer.status_code == 200, answer.text
    expected = "cancelled" if operation == "cancel" else "active"
    assert answer.json()["status"] == expected
