"""`/v1/bookings` and `/v1/slots` over HTTP (ASGI transport, SQLite and PostgreSQL): a firm's
own bookings only (another firm's answer 404 exactly like a missing one), idempotent
retries, each rule's problem+json, and the booking events left in the outbox."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.bookings import BookingRules
from lanes.model import Direction, Gate, Manifest
from services.api.app import ApiContext, create_app
from services.api.booking_schemas import BookingRequest
from services.api.bookings import _hash as request_hash
from services.api.ratelimit import RateLimiter
from services.db.booking_tables import BookingEventRow, BookingRow, SlotCountRow
from services.db.engine import session_factory
from services.db.firms import create_firm
from services.db.manifests import store_manifests
from services.gates.loader import default_gates
from services.runtime.settings import KafkaSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
PROBLEM = "application/problem+json"
LOCAL = timedelta(hours=7)


def local_slot(days: int, hour: int) -> datetime:
    """The slot at `hour`:00 local (+07:00), `days` after today (real clock: the API's)."""
    today = (datetime.now(UTC) + LOCAL).date()
    day = today + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - LOCAL


def gates_with(rules: BookingRules | None) -> Mapping[str, Gate]:
    gate = default_gates()["huu-nghi"]
    return {"huu-nghi": gate if rules is None else dataclasses.replace(gate, booking=rules)}


def make_client(
    engine: AsyncEngine, gates: Mapping[str, Gate] | None = None, *, public_url: str | None = None
) -> httpx.AsyncClient:
    context = ApiContext(
        sessions=session_factory(engine),
        kafka=KafkaSettings(bootstrap="127.0.0.1:9"),
        bootstrap="127.0.0.1:9",
        gates=gates or default_gates(),
        default_gate="huu-nghi",
        limiter=RateLimiter(rate=10_000.0, burst=10_000),
        public_url=public_url,
    )
    transport = httpx.ASGITransport(app=create_app(context))
    return httpx.AsyncClient(transport=transport, base_url="http://borderflow.test")


async def add_firms(engine: AsyncEngine, firm_ids: list[str]) -> dict[str, str]:
    async with session_factory(engine)() as session, session.begin():
        return {
            f: (await create_firm(session=session, firm_id=f, name=f, now=T0)).key for f in firm_ids
        }


async def add_manifests(
    engine: AsyncEngine, firm_id: str, ids: list[str], *, perishable: bool = False
) -> None:
    manifests = [
        Manifest(
            manifest_id=m,
            firm_id=firm_id,
            direction=Direction.EXPORT,
            tractor_plate="29H12345",
            perishable=perishable,
        )
        for m in ids
    ]
    async with session_factory(engine)() as session, session.begin():
        await store_manifests(session=session, manifests=manifests, source="http", now=T0)


def auth(key: str, idem: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    if idem is not None:
        headers["Idempotency-Key"] = idem
    return headers


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["type"] and body["detail"]
    return body


@pytest_asyncio.fixture
async def keys(engine: AsyncEngine) -> dict[str, str]:
    keys = await add_firms(engine, ["firm-a", "firm-b"])
    await add_manifests(engine, "firm-a", ["A-1", "A-2", "A-3"])
    await add_manifests(engine, "firm-a", ["A-P"], perishable=True)
    await add_manifests(engine, "firm-b", ["B-1"])
    return {"a": keys["firm-a"], "b": keys["firm-b"]}


@pytest_asyncio.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(engine) as c:
        yield c


async def _book(
    client: httpx.AsyncClient, key: str, manifest_id: str, at: datetime, idem: str
) -> httpx.Response:
    return await client.post(
        "/v1/bookings",
        json={"manifest_id": manifest_id, "slot_start": at.isoformat()},
        headers=auth(key, idem),
    )


async def test_book_read_list_reschedule_cancel(
    client: httpx.AsyncClient, keys: dict[str, str], engine: AsyncEngine
) -> None:
    at = local_slot(1, 10)
    created = await _book(client, keys["a"], "A-1", at, "k-1")
    assert created.status_code == 201, created.text
    booking = created.json()
    assert booking["status"] == "active" and booking["direction"] == "export"
    assert datetime.fromisoformat(booking["slot_end"]) - at == timedelta(hours=1)
    assert created.headers["location"] == f"/v1/bookings/{booking['booking_id']}"
    path = f"/v1/bookings/{booking['booking_id']}"
    assert (await client.get(path, headers=auth(keys["a"]))).json() == booking

    slots = await client.get(
        "/v1/slots",
        params={"direction": "export", "from": at.isoformat(), "to": (at + timedelta(hours=2))},
        headers=auth(keys["b"]),
    )
    assert slots.status_code == 200, slots.text
    first = slots.json()["slots"][0]
    assert first["capacity"] == 60 and first["reserved"] == 18
    assert first["booked"] == 1 and first["left"] == 59 and first["left_general"] == 41
    assert first["open"] is True
    assert datetime.fromisoformat(first["closes_at"]) < at
    # a slot already begun is listed as it was, but not as open (found by a stranger's try:
    # past slots were listed with places left, and booking one was refused)
    past = await client.get(
        "/v1/slots",
        params={"direction": "export", "from": (at - timedelta(days=2)).isoformat()},
        headers=auth(keys["b"]),
    )
    assert past.status_code == 200, past.text
    assert past.json()["slots"] and not any(s["open"] for s in past.json()["slots"][:3])

    later = local_slot(1, 12)
    moved = await client.post(
        path + "/reschedule", json={"slot_start": later.isoformat()}, headers=auth(keys["a"])
    )
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["slot_start"]) == later
    assert moved.json()["version"] == 2

    cancelled = await client.post(path + "/cancel", headers=auth(keys["a"]))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = await client.post(path + "/cancel", headers=auth(keys["a"]))
    assert again.status_code == 200 and again.json() == cancelled.json()
    refused = await client.post(
        path + "/reschedule", json={"slot_start": at.isoformat()}, headers=auth(keys["a"])
    )
    assert "only an active booking" in problem(refused, 409)["detail"]

    rebooked = await _book(client, keys["a"], "A-1", at, "k-2")
    assert rebooked.status_code == 201
    listed = await client.get("/v1/bookings", params={"limit": 1}, headers=auth(keys["a"]))
    page = listed.json()
    assert len(page["items"]) == 1 and page["next"] is not None
    rest = await client.get("/v1/bookings", params={"after": page["next"]}, headers=auth(keys["a"]))
    assert len(rest.json()["items"]) == 1 and rest.json()["next"] is None
    active = await client.get("/v1/bookings", params={"status": "active"}, headers=auth(keys["a"]))
    assert [b["booking_id"] for b in active.json()["items"]] == [rebooked.json()["booking_id"]]

    async with session_factory(engine)() as session:
        counts = dict(
            (await session.execute(select(SlotCountRow.slot_start, SlotCountRow.booked))).all()
        )
        types = list(await session.scalars(select(BookingEventRow.type)))
    assert counts == {at: 1, later: 0}
    assert sorted(types) == sorted(
        ["booking.created", "booking.rescheduled", "booking.cancelled", "booking.created"]
    )


async def test_firms_never_see_each_others_bookings(
    client: httpx.AsyncClient, keys: dict[str, str], engine: AsyncEngine
) -> None:
    at = local_slot(1, 10)
    theirs = (await _book(client, keys["b"], "B-1", at, "kb")).json()["booking_id"]
    missing = "bk_" + "0" * 32
    for method, suffix, body in (
        ("GET", "", None),
        ("POST", "/cancel", None),
        ("POST", "/reschedule", {"slot_start": local_slot(1, 11).isoformat()}),
    ):
        answers = []
        for booking_id in (theirs, missing):
            response = await client.request(
                method, f"/v1/bookings/{booking_id}{suffix}", json=body, headers=auth(keys["a"])
            )
            answers.append(problem(response, 404))
        assert answers[0] == answers[1] | {
            "detail": answers[1]["detail"].replace(missing, theirs),
            "errors": [
                e | {"message": e["message"].replace(missing, theirs)} for e in answers[1]["errors"]
            ],
        }
    listed = await client.get("/v1/bookings", headers=auth(keys["a"]))
    assert listed.json()["items"] == []
    # another firm's manifest cannot be booked, and reads as missing
    other = problem(await _book(client, keys["a"], "B-1", at, "ka"), 404)
    nothing = problem(await _book(client, keys["a"], "NOPE", at, "kb2"), 404)
    assert other["detail"].replace("B-1", "NOPE") == nothing["detail"]
    # B's booking is untouched
    mine = await client.get(f"/v1/bookings/{theirs}", headers=auth(keys["b"]))
    assert mine.json()["status"] == "active" and mine.json()["version"] == 1
    for path in ("/v1/bookings", f"/v1/bookings/{theirs}", "/v1/slots?direction=export"):
        problem(await client.get(path), 401)
    problem(await _book(client, "bf_" + "x" * 43, "A-1", at, "kx"), 401)


async def test_idempotent_retries(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    at = local_slot(2, 9)
    first = await _book(client, keys["a"], "A-1", at, "same")
    retry = await _book(client, keys["a"], "A-1", at, "same")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and retry.headers["idempotent-replayed"] == "true"
    other = await _book(client, keys["a"], "A-2", at, "same")
    assert "another request body" in problem(other, 409)["detail"]
    # the same key of another firm is another key
    assert (await _book(client, keys["b"], "B-1", at, "same")).status_code == 201
    # a refused request stores nothing: the key may be used again once fixed
    bad = await _book(client, keys["a"], "A-2", at + timedelta(minutes=5), "k2")
    problem(bad, 422)
    assert (await _book(client, keys["a"], "A-2", at, "k2")).status_code == 201
    listed = await client.get("/v1/bookings", headers=auth(keys["a"]))
    assert len(listed.json()["items"]) == 2
    no_key = await client.post(
        "/v1/bookings",
        json={"manifest_id": "A-3", "slot_start": at.isoformat()},
        headers=auth(keys["a"]),
    )
    assert problem(no_key, 422)["errors"][0]["field"] == "Idempotency-Key"
    # headers are case-insensitive: the key written in lower case is the same key
    lower = await client.post(
        "/v1/bookings",
        json={"manifest_id": "A-1", "slot_start": at.isoformat()},
        headers={"Authorization": f"Bearer {keys['a']}", "idempotency-key": "same"},
    )
    assert lower.status_code == 201 and lower.headers["idempotent-replayed"] == "true"
    # once the booking is cancelled, a retry still replays the first answer as it was (the
    # IETF draft's and Stripe's behaviour, docs/http-api.md): its Location tells it as it is
    path = first.headers["location"]
    assert (await client.post(path + "/cancel", headers=auth(keys["a"]))).status_code == 200
    late = await _book(client, keys["a"], "A-1", at, "same")
    assert (late.status_code, late.json()) == (201, first.json())
    assert late.headers["idempotent-replayed"] == "true" and late.headers["location"] == path
    now = await client.get(path, headers=auth(keys["a"]))
    assert now.json()["status"] == "cancelled"


async def test_a_retry_naming_the_same_instant_in_another_offset_is_the_same_request(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    """Found by a firm's integrator (2026-12-06, curl): a retry whose `slot_start` named the
    first request's instant in UTC (`...T02:00:00Z` for `...T09:00:00+07:00`, as a client
    that keeps its times in UTC writes it again) was a 409 `idempotency-key-reused`, 'used
    with another request body', though it asked for the very booking the first made (blanks
    around the manifest id were already read as the same request). The instant counts, in
    the gate's offset, so a request hashed before this change is still recognised."""
    at = local_slot(2, 9)
    local = at.astimezone(timezone(LOCAL)).isoformat()
    first = await _book_as(client, keys["a"], "A-1", local, "same")
    assert first.status_code == 201, first.text
    for written in (
        at.isoformat().replace("+00:00", "Z"),
        at.astimezone(timezone(-LOCAL)).isoformat(),
    ):
        retry = await _book_as(client, keys["a"], "A-1", written, "same")
        assert retry.status_code == 201, retry.text
        assert retry.json() == first.json() and retry.headers["idempotent-replayed"] == "true"
    other = await _book_as(client, keys["a"], "A-1", (at + timedelta(hours=1)).isoformat(), "same")
    assert problem(other, 409)["type"] == "urn:borderflow:problem:idempotency-key-reused"
    # a request in the gate's offset hashes as it did before: its stored keys still match
    body = BookingRequest(manifest_id="A-1", slot_start=datetime.fromisoformat(local))
    before = body.model_dump(mode="json", exclude={"driver_phone"}) | {"gate": "huu-nghi"}
    legacy = hashlib.sha256(json.dumps(before, sort_keys=True).encode()).hexdigest()
    assert request_hash(body, default_gates()["huu-nghi"]) == legacy


async def _book_as(
    client: httpx.AsyncClient, key: str, manifest_id: str, slot_start: str, idem: str
) -> httpx.Response:
    return await client.post(
        "/v1/bookings",
        json={"manifest_id": manifest_id, "slot_start": slot_start},
        headers=auth(key, idem),
    )


async def test_each_rule_has_its_problem(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    now = datetime.now(UTC)
    cases = [
        (local_slot(1, 10) + timedelta(minutes=15), 422, "not a slot boundary"),
        (local_slot(1, 23), 422, "outside the bookable hours"),
        (local_slot(1, 5), 422, "outside the bookable hours"),
        (local_slot(9, 10), 422, "beyond the booking horizon of 7 days"),
        (local_slot(-1, 10), 422, "in the past"),
    ]
    soon = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if (soon - now) < timedelta(minutes=30):
        cases.append((soon, 422, "past the cut-off"))
    for i, (at, status, words) in enumerate(cases):
        body = problem(await _book(client, keys["a"], "A-1", at, f"rule-{i}"), status)
        assert words in body["detail"], (at, body)
        assert body["errors"][0]["field"] == "slot_start"
    naive = await client.post(
        "/v1/bookings",
        json={"manifest_id": "A-1", "slot_start": "2026-12-01T10:00:00"},
        headers=auth(keys["a"], "naive"),
    )
    assert problem(naive, 422)["errors"][0]["field"] == "slot_start"
    unknown_gate = await client.post(
        "/v1/bookings",
        json={"manifest_id": "A-1", "slot_start": local_slot(1, 10).isoformat(), "gate": "x"},
        headers=auth(keys["a"], "gate"),
    )
    assert "gate: unknown gate 'x'" in problem(unknown_gate, 422)["detail"]

    at = local_slot(1, 10)
    assert (await _book(client, keys["a"], "A-1", at, "one")).status_code == 201
    twice = problem(await _book(client, keys["a"], "A-1", local_slot(1, 11), "two"), 409)
    assert "already has an active booking" in twice["detail"]
    assert twice["errors"][0]["field"] == "manifest_id"

    for params, words in (
        ({"direction": "export", "from": "2026-12-01T10:00:00"}, "from: needs a UTC offset"),
        (
            {"direction": "export", "from": at.isoformat(), "to": (at - timedelta(hours=1))},
            "to: must be after",
        ),
        (
            {"direction": "export", "from": at.isoformat(), "to": (at + timedelta(days=8))},
            "at most 7 days",
        ),
        ({"direction": "sideways"}, "direction"),
        # numbers are not taken as seconds since 1970: the document says date-time text
        ({"direction": "export", "from": "0.0"}, "from: must be an ISO 8601 date-time with offset"),
        # `from=...T10:00:00+07:00` typed in a URL: the '+' arrives as a space, which pydantic
        # called "unexpected extra characters at the end of the input"
        (
            {"direction": "export", "from": "2026-12-01T10:00:00 07:00"},
            "from: has a space where the offset's '+' belongs (in a URL query '+' reads as a "
            "space: send it as %2B07:00)",
        ),
    ):
        answer = await client.get("/v1/slots", params=params, headers=auth(keys["a"]))
        assert words in problem(answer, 422)["detail"]
    unknown = await client.get(
        "/v1/slots", params={"direction": "export", "gate": "x"}, headers=auth(keys["a"])
    )
    problem(unknown, 404)


async def test_full_slots_and_the_perishable_reserve(
    engine: AsyncEngine, keys: dict[str, str]
) -> None:
    rules = BookingRules(export_per_slot=3, import_per_slot=3, perishable_share=0.34)
    async with make_client(engine, gates_with(rules)) as client:
        at = local_slot(1, 10)
        assert (await _book(client, keys["a"], "A-1", at, "1")).status_code == 201
        assert (await _book(client, keys["a"], "A-2", at, "2")).status_code == 201
        # 1 of 3 is kept for perishables: a third general load is refused
        full = problem(await _book(client, keys["a"], "A-3", at, "3"), 409)
        assert "slot full" in full["detail"] and "capacity 3" in full["detail"]
        assert "1 kept for perishable" in full["detail"]
        assert (await _book(client, keys["a"], "A-P", at, "4")).status_code == 201
        problem(await _book(client, keys["b"], "B-1", at, "5"), 409)
        # a reschedule into a full slot keeps the old slot
        other = (await _book(client, keys["a"], "A-3", local_slot(1, 11), "6")).json()
        moved = await client.post(
            f"/v1/bookings/{other['booking_id']}/reschedule",
            json={"slot_start": at.isoformat()},
            headers=auth(keys["a"]),
        )
        assert "slot full" in problem(moved, 409)["detail"]
        kept = await client.get(f"/v1/bookings/{other['booking_id']}", headers=auth(keys["a"]))
        assert kept.json() == other
    async with session_factory(engine)() as session:
        active = await session.scalar(
            select(func.count()).where(BookingRow.status == "active", BookingRow.slot_start == at)
        )
        count = await session.scalar(
            select(SlotCountRow.booked).where(SlotCountRow.slot_start == at)
        )
    assert active == count == 3


@pytest.mark.parametrize(
    "at", ["0001-01-01T00:00:00+07:00", "9999-12-31T20:00:00-12:00", "1970-01-01T00:00:00Z"]
)
async def test_instants_out_of_range_are_422_naming_the_field_never_500(
    client: httpx.AsyncClient, keys: dict[str, str], at: str
) -> None:
    """Found by a stranger's try: year 1 or 9999 with an offset does not convert to UTC and
    was a 500 (OverflowError in the driver) on manifests, slots, bookings and reschedules."""
    booked = await client.post(
        "/v1/bookings", json={"manifest_id": "A-1", "slot_start": at}, headers=auth(keys["a"], "x")
    )
    assert booked.status_code == 422 and "slot_start" in booked.text, booked.text
    slots = await client.get(
        "/v1/slots", params={"direction": "export", "from": at}, headers=auth(keys["a"])
    )
    assert slots.status_code == 422 and "from" in slots.text, slots.text
    form = {
        "manifest_id": "A-9",
        "direction": "export",
        "tractor_plate": "29H12399",
        "customs_status": "cleared",
        "window_start": at,
        "window_end": "2026-12-06T12:00:00+07:00",
    }
    filed = await client.post("/v1/manifests", json=form, headers=auth(keys["a"]))
    assert filed.status_code == 422 and "window_start" in filed.text, filed.text
    assert filed.headers["content-type"].startswith("application/problem+json")


async def test_a_body_over_a_mebibyte_is_413_before_anything_reads_it(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    """Found by a stranger's try: 100 MB bodies were taken and parsed, and a 5 MB login body
    came back in a 10 MB error. By its Content-Length, or as it streams in."""
    big = b'{"manifest_id": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    for path in ("/v1/manifests", "/control/api/login", "/v1/bookings"):
        answer = await client.post(
            path, content=big, headers={**auth(keys["a"]), "Content-Type": "application/json"}
        )
        assert answer.status_code == 413, (path, answer.status_code)
        assert answer.headers["content-type"] == "application/problem+json"
        assert len(answer.content) < 1000

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    streamed = await client.post(
        "/v1/manifests",
        content=chunks(),
        headers={**auth(keys["a"]), "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413


async def test_a_booked_manifest_keeps_its_direction_until_its_booking_is_cancelled(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    """An amendment turning a booked export manifest into an import one was 200 'updated'
    and left its booking in an export slot (counted in the export capacity, used at the gate
    by the truck whatever its direction), with nothing said to the firm."""
    at = local_slot(1, 10)
    booking = (await _book(client, keys["a"], "A-1", at, "turn-1")).json()
    form = {
        "manifest_id": "A-1",
        "tractor_plate": "29H-123.45",
        "customs_status": "cleared",
        "window_start": (at - timedelta(hours=2)).isoformat(),
        "window_end": (at + timedelta(hours=2)).isoformat(),
    }
    turned = await client.post(
        "/v1/manifests", json=form | {"direction": "import"}, headers=auth(keys["a"])
    )
    body = problem(turned, 409)
    assert body["type"] == "urn:borderflow:problem:manifest-booked"
    assert [e["field"] for e in body["errors"]] == ["direction"]
    assert booking["booking_id"] in body["detail"] and "cancel it" in body["detail"]
    kept = await client.get("/v1/manifests/A-1", headers=auth(keys["a"]))
    assert kept.json()["direction"] == "export" and kept.json()["version"] == 1
    # any other amendment of a booked manifest is as before
    amended = await client.post(
        "/v1/manifests", json=form | {"direction": "export"}, headers=auth(keys["a"])
    )
    assert amended.status_code == 200 and amended.json()["status"] == "updated", amended.text
    cancel = await client.post(
        f"/v1/bookings/{booking['booking_id']}/cancel", headers=auth(keys["a"])
    )
    assert cancel.status_code == 200
    turned = await client.post(
        "/v1/manifests", json=form | {"direction": "import"}, headers=auth(keys["a"])
    )
    assert turned.status_code == 200 and turned.json()["direction"] == "import", turned.text
