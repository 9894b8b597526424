"""Text no database can store (NUL, a lone UTF-16 surrogate) is refused at every way in with
the field named, never a 500 (issue 17): every string field of the HTTP bodies, the query
strings, the manifest import file and the topics' decoders. `POST /v1/manifests` with
`"cargo": {"description": "rice\\u0000sugar"}` answered 500 text/plain on PostgreSQL."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.app import ApiContext, create_app
from services.config import KafkaSettings
from services.db.engine import session_factory
from services.db.firms import create_firm
from services.gate_config import default_gates
from services.manifest_import import import_manifests
from streams.codec import decode_plate_read
from streams.errors import InvalidEvent
from streams.frames import decode_frame
from streams.lane_events import decode_lane_event
from streams.manifests import decode_manifest
from tests.integration.harness import manifest_form, read

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
BAD = {"NUL": "rice\x00sugar", "lone surrogate": "rice\ud800sugar"}


def _string_fields(obj: Any, path: str = "") -> Iterator[str]:
    if isinstance(obj, str):
        yield path
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _string_fields(value, f"{path}.{key}" if path else key)
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from _string_fields(value, f"{path}.{index}")


def _with(obj: Any, path: str, value: str) -> Any:
    head, _, rest = path.partition(".")
    if isinstance(obj, list):
        out = list(obj)
        out[int(head)] = value if not rest else _with(obj[int(head)], rest, value)
        return out
    return {**obj, head: value if not rest else _with(obj[head], rest, value)}


def _context(engine: AsyncEngine) -> ApiContext:
    """The API's context on `engine`, with no broker behind it (none is needed here)."""
    return ApiContext(
        sessions=session_factory(engine),
        kafka=KafkaSettings(bootstrap="127.0.0.1:9"),
        bootstrap="127.0.0.1:9",
        gates=default_gates(),
        default_gate="huu-nghi",
    )


@pytest_asyncio.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    async with session_factory(engine)() as session, session.begin():
        key = (await create_firm(session=session, firm_id="firm-01", name="One", now=T0)).key
    transport = httpx.ASGITransport(app=create_app(_context(engine)))
    async with httpx.AsyncClient(transport=transport, base_url="http://borderflow.test") as c:
        yield c, key


def _refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert [e["field"] for e in body["errors"]] == [field], body
    assert body["detail"].startswith(f"{field}: contains")


@pytest.mark.parametrize("kind", sorted(BAD))
async def test_every_string_field_of_a_manifest(
    client: tuple[httpx.AsyncClient, str], kind: str
) -> None:
    http, key = client
    form = manifest_form("MF-1")
    fields = list(_string_fields(form))
    assert {"cargo.description", "tractor_plate", "containers.0", "manifest_id"} <= set(fields)
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    for field in fields:
        body = json.dumps(_with(form, field, BAD[kind]))  # \u escapes, as clients send them
        _refused(await http.post("/v1/manifests", content=body, headers=auth), field)
    # a field name, a booking body and a query parameter too; the form itself is stored
    named = json.dumps({**form, "no\x00te": "x"})
    response = await http.post("/v1/manifests", content=named, headers=auth)
    assert response.status_code == 422 and "field name contains" in response.text
    booking = json.dumps({"manifest_id": BAD[kind], "slot_start": "2026-11-23T10:00:00+07:00"})
    _refused(await http.post("/v1/bookings", content=booking, headers=auth), "manifest_id")
    slots = await http.get("/v1/slots", params={"direction": "export", "gate": BAD["NUL"]})
    _refused(slots, "gate")
    assert (await http.post("/v1/manifests", json=form, headers=auth)).status_code == 201


async def test_control_room_login(client: tuple[httpx.AsyncClient, str]) -> None:
    http, _ = client
    body = json.dumps({"username": "ana\x00", "password": "x" * 12})
    response = await http.post(
        "/control/api/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith("username: contains U+0000")


async def test_the_import_file_names_the_line_and_the_field(engine: AsyncEngine) -> None:
    good = json.dumps(manifest_form("MF-1")).encode()
    bad = json.dumps(manifest_form("MF-2", cargo={"description": "rice\x00sugar"})).encode()
    errors = io.StringIO()
    counts = await import_manifests(
        sessions=session_factory(engine), lines=[good, bad], name="day.jsonl", now=T0, errors=errors
    )
    assert counts["created"] == 1 and counts["invalid"] == 1
    assert errors.getvalue().startswith("day.jsonl:2: cargo.description: contains U+0000")


def test_the_topics_decoders_refuse_it() -> None:
    text = BAD["NUL"]
    plate_read = json.dumps(read("r-1", "29H12345", T0) | {"plate_text": text}).encode()
    manifest = json.dumps(manifest_form("MF-1", firm_id=text)).encode()
    lane_event = json.dumps(
        {
            "event_id": "e",
            "gate_id": "huu-nghi",
            "kind": "lane_closed",
            "lane_id": text,
            "at": T0.isoformat(),
        }
    ).encode()
    frame = json.dumps({"frame_id": text, "camera_id": "c", "captured_at": T0.isoformat()}).encode()
    for decode, value, field in (
        (decode_plate_read, plate_read, "plate_text"),
        (decode_manifest, manifest, "firm_id"),
        (decode_lane_event, lane_event, "lane_id"),
        (decode_frame, frame, "frame_id"),
    ):
        with pytest.raises(InvalidEvent) as caught:
            decode(value)
        assert caught.value.reason.startswith(f"{field}: contains U+0000"), caught.value.reason


async def test_an_unforeseen_error_is_a_problem_with_the_request_id(engine: AsyncEngine) -> None:
    """The last resort: not Starlette's text/plain "Internal Server Error" without an id."""
    app = create_app(_context(engine))

    @app.get("/v1/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://borderflow.test") as http:
        response = await http.get("/v1/boom", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["x-request-id"] == "req-42"
    assert "req-42" in response.json()["detail"]
