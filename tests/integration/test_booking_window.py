"""A booking's slot must lie in its manifest's crossing window (found as a stranger,
2026-12-06). The manifest says the truck crosses 08:00-12:00 local; the API booked it into
15:00-16:00 (201), and the truck arriving on time for its slot was matched
`outside_window` ("3 h 10 min late for its window", lanes/matching.py) and went to review.
Now booking or rescheduling into a slot wholly outside the window is a 422 naming
`slot_start`, the window in words (`lanes.booking.ManifestTerms.check_slot`); a slot that
meets the window is booked as before. An amendment that moves a booked manifest's window
off its slot is a 409 manifest-booked naming the bound (`lanes.filing.booked_off_window`)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.integration.test_bookings_api import auth, client, keys, local_slot, problem

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
__all__ = ["client", "keys"]  # the fixtures


async def test_a_slot_outside_the_manifests_window_is_refused(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    a = keys["a"]
    opens = local_slot(1, 8)
    manifest = {
        "manifest_id": "A-W",
        "direction": "export",
        "tractor_plate": "29H-123.45",
        "customs_status": "cleared",
        "window_start": opens.isoformat(),
        "window_end": (opens + timedelta(hours=4)).isoformat(),
    }
    assert (await client.post("/v1/manifests", json=manifest, headers=auth(a))).is_success
    response = await client.post(
        "/v1/bookings",
        json={"manifest_id": "A-W", "slot_start": local_slot(1, 15).isoformat()},
        headers=auth(a, "k-w"),
    )
    body = problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["slot_start"], body
    assert "outside manifest 'A-W''s crossing window" in body["detail"], body
    assert "08:00 local (UTC+07:00) to" in body["detail"] and "12:00" in body["detail"], body
    # the slot ending as the window closes meets it; the one starting then does not
    last = await client.post(
        "/v1/bookings",
        json={"manifest_id": "A-W", "slot_start": local_slot(1, 11).isoformat()},
        headers=auth(a, "k-w2"),
    )
    assert last.status_code == 201, last.text
    booking = last.json()["booking_id"]
    moved = await client.post(
        f"/v1/bookings/{booking}/reschedule",
        json={"slot_start": local_slot(1, 12).isoformat()},
        headers=auth(a),
    )
    assert [e["field"] for e in problem(moved, 422)["errors"]] == ["slot_start"]
    back = await client.post(
        f"/v1/bookings/{booking}/reschedule",
        json={"slot_start": local_slot(1, 8).isoformat()},
        headers=auth(a),
    )
    assert back.status_code == 200, back.text
    # an amendment moving the window off the booked slot (08:00-09:00) is refused; one that
    # still meets it is a new version
    off = manifest | {"window_start": local_slot(1, 10).isoformat()}
    refused = await client.post("/v1/manifests", json=off, headers=auth(a))
    body = problem(refused, 409)
    assert body["type"].endswith("manifest-booked"), body
    assert [e["field"] for e in body["errors"]] == ["window_start"], body
    assert f"holds booking {booking!r}" in body["detail"], body
    late = manifest | {
        "window_start": local_slot(1, 6).isoformat(),
        "window_end": local_slot(1, 8).isoformat(),
    }
    assert [
        e["field"]
        for e in problem(await client.post("/v1/manifests", json=late, headers=auth(a)), 409)[
            "errors"
        ]
    ] == ["window_end"]
    still = manifest | {"window_start": (opens + timedelta(minutes=30)).isoformat()}
    amended = await client.post("/v1/manifests", json=still, headers=auth(a))
    assert amended.status_code == 200, amended.text
