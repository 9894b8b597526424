"""A manifest id is read the same wherever a firm sends one (a booking's body, a path, the
manifest itself): the blanks around it dropped; and an id refused is refused in words, never
with the regex (over HTTP, SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from streams.manifests import ID_PATTERN, ID_WORDS, ManifestV1
from tests.integration.test_bookings_api import (
    _book,
    add_firms,
    add_manifests,
    auth,
    local_slot,
    make_client,
    problem,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def test_a_manifest_id_with_blanks_around_it_is_the_same_id_everywhere(
    engine: AsyncEngine,
) -> None:
    """' MF-1 ' was refused on a booking ('String should match pattern ...') while
    POST /v1/manifests took it as 'MF-1'."""
    keys = await add_firms(engine, ["firm-a"])
    key = keys["firm-a"]
    await add_manifests(engine, "firm-a", ["MF-1"])
    async with make_client(engine) as client:
        booked = await _book(client, key, " MF-1 ", local_slot(1, 10), "blank-1")
        assert booked.status_code == 201, booked.text
        assert booked.json()["manifest_id"] == "MF-1"
        read = await client.get("/v1/manifests/%20MF-1%20", headers=auth(key))
        assert read.status_code == 200, read.text
        assert read.json()["manifest_id"] == "MF-1"


async def test_an_id_refused_says_what_an_id_may_hold_in_words(engine: AsyncEngine) -> None:
    keys = await add_firms(engine, ["firm-a"])
    key = keys["firm-a"]
    async with make_client(engine) as client:
        refused = [
            (await _book(client, key, "MF 1", local_slot(1, 10), "bad-1"), "manifest_id"),
            (await client.get("/v1/manifests/MF%201", headers=auth(key)), "manifest_id"),
            (await client.get("/v1/bookings/bk%201", headers=auth(key)), "booking_id"),
            (await client.get("/v1/bookings?after=a%20b", headers=auth(key)), "after"),
            (
                await client.post(
                    "/v1/manifests",
                    json={"manifest_id": "MF 1", "direction": "export"},
                    headers=auth(key),
                ),
                "manifest_id",
            ),
        ]
        for answer, field in refused:
            body = problem(answer, 422)
            [error] = [e for e in body["errors"] if e["field"] == field]
            assert error["message"] == ID_WORDS, body
            assert ID_PATTERN not in answer.text and "pattern" not in answer.text


def test_the_topics_and_the_imports_manifest_id_is_read_the_same() -> None:
    # borderflow.manifests and `borderflow manifests import` read ManifestV1 too
    form = {
        "manifest_id": " MF-1 ",
        "direction": "export",
        "tractor_plate": "29H12345",
        "customs_status": "cleared",
        "window_start": "2027-03-10T08:00:00+07:00",
        "window_end": "2027-03-10T12:00:00+07:00",
    }
    assert ManifestV1.model_validate(form).manifest_id == "MF-1"
    with pytest.raises(ValueError, match="letters"):
        ManifestV1.model_validate(form | {"manifest_id": "MF 1"})
