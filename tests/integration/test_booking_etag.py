"""Optimistic concurrency for a firm's bookings, as HTTP clients do it (RFC 9110 8.8.3,
13.1.1-2): each answer with a booking carries its `ETag` (its version); a reschedule or a
cancel sent `If-Match` with an older one is refused (412) and changes nothing; a `GET`
with `If-None-Match` of the current one answers 304. Found 2026-12-06 by a stranger firm
with curl: two dispatchers moving one booking at once could only compare `version` by
hand, and the later move silently undid the earlier one."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.test_bookings_api import _book, auth, client, keys, local_slot, problem

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
__all__ = ["client", "keys"]  # the fixtures


async def test_a_change_sent_with_an_old_etag_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    created = await _book(client, keys["a"], "A-1", local_slot(1, 10), "k-etag")
    assert created.status_code == 201, created.text
    booking_id, v1 = created.json()["booking_id"], created.headers["etag"]
    path = f"/v1/bookings/{booking_id}"
    assert v1 == f'"{booking_id}-v1"'

    read = await client.get(path, headers=auth(keys["a"]))
    assert read.headers["etag"] == v1
    unchanged = await client.get(path, headers=auth(keys["a"]) | {"If-None-Match": v1})
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    assert unchanged.headers["etag"] == v1

    # dispatcher 1 moves it to 11:00 with the ETag it read: done, version 2
    moved = await client.post(
        f"{path}/reschedule",
        json={"slot_start": local_slot(1, 11).isoformat()},
        headers=auth(keys["a"]) | {"If-Match": v1},
    )
    assert moved.status_code == 200, moved.text
    v2 = moved.headers["etag"]
    assert v2 == f'"{booking_id}-v2"'
    # dispatcher 2, who read v1 too, moves it to 12:00: refused, the 11:00 slot stands
    stale = await client.post(
        f"{path}/reschedule",
        json={"slot_start": local_slot(1, 12).isoformat()},
        headers=auth(keys["a"]) | {"If-Match": v1},
    )
    body = problem(stale, 412)
    assert body["type"].endswith(":precondition-failed")
    assert body["errors"][0]["field"] == "If-Match"
    assert "at version 2; the request names version 1" in body["detail"]
    stale_cancel = await client.post(f"{path}/cancel", headers=auth(keys["a"]) | {"If-Match": v1})
    problem(stale_cancel, 412)
    now = (await client.get(path, headers=auth(keys["a"]))).json()
    assert (now["version"], now["status"]) == (2, "active")
    assert now["slot_start"] == moved.json()["slot_start"]

    # the current ETag, a list holding it, or `*`: taken
    assert (
        await client.post(
            f"{path}/reschedule",
            json={"slot_start": local_slot(1, 12).isoformat()},
            headers=auth(keys["a"]) | {"If-Match": f'"x", {v2}'},
        )
    ).status_code == 200
    cancelled = await client.post(f"{path}/cancel", headers=auth(keys["a"]) | {"If-Match": "*"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    # a retry of that cancel with the ETag it was sent with: already done, 200 (13.1.1)
    again = await client.post(
        f"{path}/cancel", headers=auth(keys["a"]) | {"If-Match": f'"{booking_id}-v3"'}
    )
    assert again.status_code == 200 and again.json()["version"] == 4
    # no If-Match: as before
    assert (await client.post(f"{path}/cancel", headers=auth(keys["a"]))).status_code == 200
