"""Text no database can store (NUL, a lone UTF-16 surrogate) is refused at every way in with
the field named, never a 500 (issue 17): every string field of every HTTP request body, the
query strings and path ids, the manifest import file and the topics (dead-lettered with the
reason, nothing stored, nothing behind it lost). `POST /v1/manifests` with
`"cargo": {"description": "rice\\u0000sugar"}` answered 500 text/plain on PostgreSQL."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.app import ApiContext, create_app
from services.cli.manifest_import import import_manifests, main_import
from services.db.engine import display_url, session_factory
from services.db.firms import create_firm
from services.db.manifests import get_manifest
from services.gates.loader import default_gates
from services.runtime.settings import DatabaseSettings, KafkaSettings, Settings
from streams.codec import decode_plate_read
from streams.errors import InvalidEvent
from streams.frames import decode_frame
from streams.lane_events import decode_lane_event
from streams.manifests import decode_manifest
from streams.topics import LANE_DECISIONS, MANIFESTS, PLATE_READS, dead_letter_topic
from tests.integration.harness import (
    collect,
    decision_payloads,
    fresh_broker,
    make_settings,
    manifest,
    manifest_form,
    read,
    running_manifest_intake,
    running_system,
    seed,
    wait_until,
)
from tests.integration.test_manifest_import import _stored

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
BAD = {"NUL": "rice\x00sugar", "lone surrogate": "rice\ud800sugar"}
REASON = {"NUL": "contains U+0000 (NUL)", "lone surrogate": "contains a lone surrogate U+D800"}

# One valid body of every operation that takes one: each string in it is replaced in turn.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/manifests"): manifest_form("MF-1"),
    ("POST", "/v1/bookings"): {
        "manifest_id": "MF-1",
        "slot_start": "2026-11-23T10:00:00+07:00",
        "gate": "huu-nghi",
    },
    ("POST", "/v1/bookings/{booking_id}/reschedule"): {"slot_start": "2026-11-23T11:00:00+07:00"},
    ("POST", "/control/api/login"): {"username": "ana", "password": "x" * 12},
    ("POST", "/control/api/actions"): {
        "action": "reassign",
        "reason": "lane blocked",
        "gate_id": "huu-nghi",
        "visit_id": "v-1",
        "lane_id": "exp-2",
        "manifest_id": "MF-1",
        "plate": "29H12345",
    },
    ("POST", "/control/api/alerts/{alert_id}/{action}"): {"reason": "checked"},  # issue 22
    ("POST", "/control/api/xborder/alerts/{alert_id}/acknowledge"): {"reason": "driver called"},
    ("PUT", "/v1/firm/settings"): {"webhook_url": "https://firm.example/calls"},  # issue 23
}


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


def _refused(response: httpx.Response, field: str, reason: str = "contains") -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["x-request-id"]
    body = response.json()
    assert body["type"] == "urn:borderflow:problem:invalid-text", body
    assert [e["field"] for e in body["errors"]] == [field], body
    assert body["detail"].startswith(f"{field}: {reason}"), body


def test_the_table_has_every_request_body(engine: AsyncEngine) -> None:
    """An operation that takes a body and is missing from BODIES fails here, not silently.
    A body that can hold no text (cancel's and check-in's `EmptyBody`: none, or `{}`, a
    member refused) has no string field to try."""
    spec = create_app(_context(engine)).openapi()
    empty = {"$ref": "#/components/schemas/EmptyBody"}
    with_body = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
        and empty not in _schema_of(operation["requestBody"]).get("anyOf", [])
    }
    assert with_body == set(BODIES)
    assert not spec["components"]["schemas"]["EmptyBody"].get("properties")


def _schema_of(body: dict[str, Any]) -> dict[str, Any]:
    return dict(body["content"]["application/json"]["schema"])


@pytest.mark.parametrize("kind", sorted(BAD))
async def test_every_string_field_of_every_body(
    client: tuple[httpx.AsyncClient, str], kind: str
) -> None:
    http, key = client
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/json",
        "Idempotency-Key": "k-1",
        "X-CSRF-Token": "t",
    }
    tried: list[str] = []
    for (method, template), valid in BODIES.items():
        url = template.replace("{booking_id}", "BK-1")
        url = url.replace("{alert_id}", "al-1").replace("{action}", "acknowledge")
        for field in _string_fields(valid):
            body = json.dumps(_with(valid, field, BAD[kind]))  # \u escapes, as clients send them
            response = await http.request(method, url, content=body, headers=headers)
            _refused(response, field, REASON[kind])
            tried.append(f"{template} {field}")
        named = json.dumps({**valid, f"no{BAD[kind]}te": "x"})  # in a field name
        response = await http.request(method, url, content=named, headers=headers)
        assert response.status_code == 422, response.text
        assert f"field name {REASON[kind]}" in response.json()["detail"]
    assert {"/v1/manifests cargo.description", "/control/api/actions reason"} <= set(tried)
    assert {t.split()[0] for t in tried} == {template for _, template in BODIES}
    # nothing of it was stored; a valid manifest with a surrogate *pair* (an emoji) is
    form = manifest_form("MF-1", cargo={"description": "thanh long \ud83d\udc09 (dragon fruit)"})
    stored = await http.post("/v1/manifests", content=json.dumps(form), headers=headers)
    assert stored.status_code == 201, stored.text
    page = (await http.get("/v1/manifests", headers=headers)).json()
    assert [m["manifest_id"] for m in page["items"]] == ["MF-1"]
    assert page["items"][0]["cargo"]["description"] == "thanh long \U0001f409 (dragon fruit)"


async def test_query_strings_and_path_ids(client: tuple[httpx.AsyncClient, str]) -> None:
    http, key = client
    auth = {"Authorization": f"Bearer {key}"}
    for url, field in (
        ("/v1/slots?direction=export&gate=huu%00nghi", "gate"),
        ("/v1/manifests?after=MF%00", "after"),
        ("/v1/bookings?after=%ED%A0%80", None),  # undecodable: U+FFFD, refused by the pattern
        ("/v1/manifests/MF%00", "manifest_id"),
        ("/v1/bookings/BK%00", "booking_id"),
        ("/v1/manifests/MF%ED%A0%80", "manifest_id"),
    ):
        response = await http.get(url, headers=auth)
        assert response.status_code == 422, (url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        if field is not None:
            assert response.json()["errors"][0]["field"] == field, response.text


async def test_json_too_deep_to_check_is_a_4xx(client: tuple[httpx.AsyncClient, str]) -> None:
    """The check parses the body itself: a body nested past what the parser takes, with an
    escape in it, is refused as unreadable (400), not a RecursionError and a 500."""
    http, key = client
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    for depth in (900, 100_000):
        body = "[" * depth + '"a\\u0000"' + "]" * depth
        response = await http.post("/v1/manifests", content=body, headers=headers)
        assert response.status_code in (400, 422), (depth, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("kind", sorted(BAD))
async def test_the_import_file_names_the_line_and_the_field(
    database_settings: DatabaseSettings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
) -> None:
    escaped = json.dumps(manifest_form("MF-2", cargo={"description": BAD[kind]})).encode()
    # a lone surrogate written raw (CESU-8 bytes), as a careless exporter might
    raw = json.dumps(manifest_form("MF-3\ud800"), ensure_ascii=False)
    lines = [
        json.dumps(manifest_form("MF-1")).encode(),
        escaped,
        raw.encode("utf-8", "surrogatepass"),
        json.dumps(manifest_form("MF-4", containers=[BAD[kind]])).encode(),
    ]
    path = tmp_path / "day.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    status = await main_import(Settings(database=database_settings, var_dir=tmp_path), str(path))
    out, err = capsys.readouterr()
    assert status == 1
    counts = f"{path}: 1 created, 0 updated, 0 unchanged, 0 refused, 3 invalid"
    assert out.strip() == f"{counts} (database {display_url(database_settings)})"
    problems = err.strip().splitlines()
    assert problems[0].startswith(f"{path}:2: cargo.description: {REASON[kind]}"), problems
    assert problems[1].startswith(f"{path}:3: manifest_id: contains a lone surrogate"), problems
    assert problems[2].startswith(f"{path}:4: containers.0: {REASON[kind]}"), problems
    assert list(await _stored(database_settings)) == ["MF-1"]


async def test_the_import_function_names_the_field(engine: AsyncEngine) -> None:
    good = json.dumps(manifest_form("MF-1")).encode()
    bad = json.dumps(manifest_form("MF-2", cargo={"description": "rice\x00sugar"})).encode()
    errors = io.StringIO()
    counts = await import_manifests(
        sessions=session_factory(engine), lines=[good, bad], name="day.jsonl", now=T0, errors=errors
    )
    assert counts["created"] == 1 and counts["invalid"] == 1
    assert errors.getvalue().startswith("day.jsonl:2: cargo.description: contains U+0000")


@pytest.mark.parametrize("kind", sorted(BAD))
def test_the_topics_decoders_refuse_it(kind: str) -> None:
    text = BAD[kind]
    lane_event = {
        "event_id": "e",
        "gate_id": "huu-nghi",
        "kind": "lane_closed",
        "lane_id": "exp-2",
        "at": T0.isoformat(),
    }
    frame = {"frame_id": "f", "camera_id": "c", "captured_at": T0.isoformat(), "image_ref": "x"}
    for decode, good, field in (
        (decode_plate_read, read("r-1", "29H12345", T0), "plate_text"),
        (decode_manifest, manifest_form("MF-1"), "firm_id"),
        (decode_lane_event, lane_event, "lane_id"),
        (decode_frame, frame, "frame_id"),
    ):
        decode(json.dumps(good).encode())  # the base is valid
        with pytest.raises(InvalidEvent) as caught:
            decode(json.dumps(good | {field: text}).encode())
        assert caught.value.reason.startswith(f"{field}: {REASON[kind]}"), caught.value.reason
        with pytest.raises(InvalidEvent) as caught:  # in a field name
            decode(json.dumps(good | {f"no{text}te": 1}).encode())
        assert f"field name {REASON[kind]}" in caught.value.reason, caught.value.reason
        caught.value.reason.encode()  # it travels in a dead-letter header: it must encode
        deep = b'{"a":' * 100_000 + b"1" + b"}" * 100_000  # not a RecursionError either
        with pytest.raises(InvalidEvent):
            decode(deep)


async def test_the_topics_dead_letter_it_and_keep_going(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    """A manifest and a plate read with a NUL go to their dead-letter topics with the field
    named, their original bytes kept; nothing of them is stored, and the corrected manifest
    and the next read behind them on the same partition are handled."""
    bad_manifest = json.dumps(manifest_form("MF-2", cargo={"description": "rice\x00sugar"}))
    good_manifest = json.dumps(manifest_form("MF-2", tractor_plate="12C-123.45"))
    bad_read = json.dumps(read("bad-1", "29H-123.45", T0) | {"plate_text": "29H\x00123.45"})
    good_read = json.dumps(read("good-1", "29H-123.45", T0))
    sent_ms = int(T0.timestamp() * 1000) + 500  # the camera gateway's clock at T0
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system, running_manifest_intake(settings) as intake:
            await seed(system.infra, manifest("MF-1", "29H12345"), now=T0)
            producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
            await producer.start()
            try:
                for topic, key, value in (
                    (MANIFESTS.name, b"MF-2", bad_manifest),
                    (MANIFESTS.name, b"MF-2", good_manifest),
                    (PLATE_READS.name, b"hn-exp-gate-1", bad_read),
                    (PLATE_READS.name, b"hn-exp-gate-1", good_read),
                ):
                    await producer.send_and_wait(
                        topic, value=value.encode(), key=key, timestamp_ms=sent_ms
                    )
            finally:
                await producer.stop()
            dead_manifests = await collect(
                broker.bootstrap, dead_letter_topic(MANIFESTS.name), expect=1
            )

            async def corrected_stored() -> bool:
                return bool(intake.intake.stats["created"] >= 1)

            await wait_until(corrected_stored)
            dead_reads = await collect(
                broker.bootstrap, dead_letter_topic(PLATE_READS.name), expect=1
            )
            decisions = decision_payloads(
                await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1)
            )
            async with system.infra.sessions() as session:
                mf2 = await get_manifest(session=session, firm_id="firm-01", manifest_id="MF-2")
            stats = intake.intake.stats, intake.runtime.stats, system.runtime.stats

    for [record], value, reason in (
        (dead_manifests, bad_manifest, "cargo.description: contains U+0000 (NUL)"),
        (dead_reads, bad_read, "plate_text: contains U+0000 (NUL)"),
    ):
        headers = {k: v.decode() for k, v in record.headers}
        assert headers["dlq.error"].startswith(reason), headers
        assert headers["dlq.error.type"] == "invalid_event"
        assert record.value == value.encode()  # the original bytes
    assert mf2 is not None and mf2.version == 1 and mf2.manifest.tractor_plate == "12C12345"
    assert mf2.manifest.cargo_description == "dragon fruit"
    assert [d["read_event_ids"] for d in decisions] == [["good-1"]]
    intake_stats, intake_runtime, decider_runtime = stats
    assert intake_stats["created"] == 1 and intake_runtime.dead_lettered == 1
    assert decider_runtime.dead_lettered == 1


async def test_control_room_login(client: tuple[httpx.AsyncClient, str]) -> None:
    http, _ = client
    body = json.dumps({"username": "ana\x00", "password": "x" * 12})
    response = await http.post(
        "/control/api/login", content=body, headers={"Content-Type": "application/json"}
    )
    _refused(response, "username")
    assert response.json()["detail"].startswith("username: contains U+0000")  # the page shows it


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
