"""A JSON body naming one member twice is refused with the member named, never read as the
last one (a stranger's try: `{"manifest_id": "A-1", "manifest_id": "A-2", ...}` booked
A-2, 201, where a gateway or a client library that keeps the first member saw A-1; the
query's parameters are already refused so, `repeated-parameter`). Through the real app,
SQLite and PostgreSQL: nothing is booked, stored or changed by such a body."""

from __future__ import annotations

import httpx
import pytest

from streams.jsonbody import repeated_member
from tests.integration.test_bookings_api import auth, client, keys, local_slot, problem

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
__all__ = ["client", "keys"]  # the fixtures

JSON = {"Content-Type": "application/json"}


def refused(response: httpx.Response, field: str) -> None:
    body = problem(response, 422)
    assert body["type"] == "urn:borderflow:problem:repeated-member", body
    assert [e["field"] for e in body["errors"]] == [field], body
    assert body["detail"].startswith(f"{field}: given 2 times"), body


async def test_a_member_given_twice_is_refused_naming_it(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    a = keys["a"]
    at = local_slot(1, 10).isoformat()
    # the booking: which manifest is meant is not said
    response = await client.post(
        "/v1/bookings",
        content=f'{{"manifest_id": "A-1", "manifest_id": "A-2", "slot_start": "{at}"}}',
        headers=auth(a, "k-twice") | JSON,
    )
    refused(response, "manifest_id")
    listed = await client.get("/v1/bookings", headers=auth(a))
    assert listed.json()["items"] == []
    # the same key with an honest body is a new request, not a replay of the refusal
    response = await client.post(
        "/v1/bookings",
        content=f'{{"manifest_id": "A-2", "slot_start": "{at}"}}',
        headers=auth(a, "k-twice") | JSON,
    )
    assert response.status_code == 201, response.text
    booking = response.json()["booking_id"]
    # a nested member, named by its path; the manifest is not stored
    response = await client.post(
        "/v1/manifests",
        content=(
            '{"manifest_id": "A-9", "direction": "export", "tractor_plate": "29H-123.45",'
            ' "customs_status": "cleared", "cargo": {"description": "rice",'
            ' "description": "sugar"}}'
        ),
        headers=auth(a) | JSON,
    )
    refused(response, "cargo.description")
    assert (await client.get("/v1/manifests/A-9", headers=auth(a))).status_code == 404
    # a reschedule, with the two slots given as one member twice; the booking stays
    later = local_slot(1, 11).isoformat()
    response = await client.post(
        f"/v1/bookings/{booking}/reschedule",
        content=f'{{"slot_start": "{later}", "slot_start": "{at}"}}',
        headers=auth(a) | JSON,
    )
    refused(response, "slot_start")
    kept = (await client.get(f"/v1/bookings/{booking}", headers=auth(a))).json()
    assert kept["version"] == 1
    # the firm's settings (any application/*+json too)
    response = await client.put(
        "/v1/firm/settings",
        content='{"webhook_url": "https://firm.example/a", "webhook_url": null}',
        headers=auth(a) | {"Content-Type": "application/merge-patch+json"},
    )
    refused(response, "webhook_url")
    # a control-room login, before any account is looked up
    response = await client.post(
        "/control/api/login",
        content='{"username": "ana", "username": "bob", "password": "xxxxxxxxxxxx"}',
        headers=JSON,
    )
    refused(response, "username")


def test_one_name_in_two_objects_is_no_repeat() -> None:
    """The same name in two objects (an object's member and a nested object's, or two
    items of a list) is no repeat; a repeat inside a list is named by its index, as the
    refusals name fields."""
    assert repeated_member('{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}') is None
    assert repeated_member('{"b": [{"a": 1}, {"a": 2, "a": 3}]}') == ("b.1.a", 2)
    assert repeated_member('{"a": 1, "a": 2, "a": 3}') == ("a", 3)
    assert repeated_member('{"a": 1,') is None  # not JSON: the route's parsing answers
    assert repeated_member("[" * 100_000 + "]" * 100_000) is None  # too deep: the same
