"""`/v1/manifests` over HTTP (ASGI transport, real databases): Bearer keys, a firm's own
manifests only, status codes and RFC 9457 problem bodies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.app import ApiContext, create_app
from services.db.engine import session_factory
from services.db.firms import create_firm, revoke_key
from services.gates.loader import default_gates
from services.runtime.settings import KafkaSettings
from streams.errors import InvalidEvent
from streams.manifests import decode_manifest
from tests.integration.harness import manifest_form

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
PROBLEM = "application/problem+json"


@pytest_asyncio.fixture
async def keys(engine: AsyncEngine) -> dict[str, str]:
    """API keys of firm-01, firm-02, and a revoked one of firm-01."""
    async with session_factory(engine)() as session, session.begin():
        one = await create_firm(session=session, firm_id="firm-01", name="One", now=T0)
        two = await create_firm(session=session, firm_id="firm-02", name="Two", now=T0)
        old = await create_firm(session=session, firm_id="firm-03", name="Old", now=T0)
        await revoke_key(session=session, prefix=old.prefix, now=T0)
    return {"one": one.key, "two": two.key, "revoked": old.key}


@pytest_asyncio.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    context = ApiContext(
        sessions=session_factory(engine),
        kafka=KafkaSettings(bootstrap="127.0.0.1:9"),
        bootstrap="127.0.0.1:9",
        gates=default_gates(),
        default_gate="huu-nghi",
    )
    transport = httpx.ASGITransport(app=create_app(context))
    async with httpx.AsyncClient(transport=transport, base_url="http://borderflow.test") as c:
        yield c


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["type"] and body["detail"]
    return body


async def test_keys_are_required_and_checked(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    form = manifest_form("MF-1")
    missing = await client.post("/v1/manifests", json=form)
    basic = await client.post("/v1/manifests", json=form, headers={"Authorization": "Basic eDp5"})
    unknown = await client.post("/v1/manifests", json=form, headers=_auth("bf_" + "x" * 43))
    revoked = await client.get("/v1/manifests", headers=_auth(keys["revoked"]))
    for response, words in (
        (missing, "missing API key"),
        (basic, "must be 'Bearer <API key>'"),
        (unknown, "unknown API key"),
        (revoked, "was revoked"),
    ):
        body = _problem(response, 401)
        assert words in body["detail"]
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in revoked.headers["www-authenticate"]


async def test_submit_created_updated_unchanged(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    form = manifest_form("MF-1", firm_id=None)  # the key says which firm
    created = await client.post("/v1/manifests", json=form, headers=_auth(keys["one"]))
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["version"], body["firm_id"]) == ("created", 1, "firm-01")
    assert body["tractor_plate"] == "29H12345"  # stored normalised
    assert body["cargo"]["hs_codes"] == ["0810.90"]
    assert created.headers["location"] == "/v1/manifests/MF-1"

    changed = manifest_form("MF-1", customs_status="pending")
    updated = await client.post("/v1/manifests", json=changed, headers=_auth(keys["one"]))
    again = await client.post("/v1/manifests", json=changed, headers=_auth(keys["one"]))
    assert (updated.status_code, updated.json()["status"], updated.json()["version"]) == (
        200,
        "updated",
        2,
    )
    assert (again.status_code, again.json()["status"], again.json()["version"]) == (
        200,
        "unchanged",
        2,
    )


async def test_the_answer_to_a_submission_reads_as_the_stored_manifest(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    """The 201 and 200 answers give the times in UTC, as GET does (found by a stranger's
    try, 2026-12-05: a window sent at +07:00 came back at +07:00 from POST and in UTC from
    GET, two spellings of one stored manifest)."""
    form = manifest_form("MF-1", firm_id=None)  # window 06:00-18:00 +07:00
    created = await client.post("/v1/manifests", json=form, headers=_auth(keys["one"]))
    changed = manifest_form("MF-1", firm_id=None, customs_status="pending")
    updated = await client.post("/v1/manifests", json=changed, headers=_auth(keys["one"]))
    read = await client.get("/v1/manifests/MF-1", headers=_auth(keys["one"]))
    assert (created.status_code, updated.status_code, read.status_code) == (201, 200, 200)
    assert created.json()["window_start"] == "2026-11-22T23:00:00Z"
    assert created.json()["window_end"] == "2026-11-23T11:00:00Z"
    assert {k: v for k, v in updated.json().items() if k != "status"} == read.json()


async def test_firms_stay_apart(client: httpx.AsyncClient, keys: dict[str, str]) -> None:
    await client.post("/v1/manifests", json=manifest_form("MF-1"), headers=_auth(keys["one"]))
    mismatch = await client.post(
        "/v1/manifests", json=manifest_form("MF-2"), headers=_auth(keys["two"])
    )
    assert "firm_id" in _problem(mismatch, 403)["detail"]
    taken = await client.post(
        "/v1/manifests", json=manifest_form("MF-1", firm_id="firm-02"), headers=_auth(keys["two"])
    )
    body = _problem(taken, 409)
    assert "already taken" in body["detail"] and "firm-01" not in taken.text
    # every problem names the field at fault (these two named none until 2026-12-05)
    assert body["detail"] == "manifest_id: 'MF-1' is already taken; choose another id"
    assert [e["field"] for e in body["errors"]] == ["manifest_id"]

    theirs = await client.get("/v1/manifests/MF-1", headers=_auth(keys["two"]))
    missing = await client.get("/v1/manifests/MF-404", headers=_auth(keys["two"]))
    assert _problem(theirs, 404)["detail"] == "manifest_id: no manifest 'MF-1'"
    assert _problem(missing, 404)["detail"] == "manifest_id: no manifest 'MF-404'"
    assert theirs.json()["errors"] == [{"field": "manifest_id", "message": "no manifest 'MF-1'"}]
    assert theirs.json()["type"] == missing.json()["type"]
    mine = await client.get("/v1/manifests/MF-1", headers=_auth(keys["one"]))
    assert mine.status_code == 200 and mine.json()["version"] == 1
    assert "status" not in mine.json()


async def test_list_pages_with_a_next_cursor(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    for i in range(5):
        form = manifest_form(f"MF-{i}", tractor_plate=f"29H1234{i}")
        assert (
            await client.post("/v1/manifests", json=form, headers=_auth(keys["one"]))
        ).is_success
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    pages = 0
    while True:
        page = (await client.get("/v1/manifests", params=params, headers=_auth(keys["one"]))).json()
        pages += 1
        seen += [m["manifest_id"] for m in page["items"]]
        if page["next"] is None:
            break
        params["after"] = page["next"]
    assert seen == [f"MF-{i}" for i in range(5)]
    assert pages == 3
    other = await client.get("/v1/manifests", headers=_auth(keys["two"]))
    assert other.json() == {"items": [], "next": None}
    too_many = await client.get("/v1/manifests?limit=9999", headers=_auth(keys["one"]))
    assert _problem(too_many, 422)["errors"][0]["field"] == "limit"


async def test_refusals_are_problem_details_with_field_paths(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    bad = manifest_form(
        "MF-1",
        trailer_plate="29H-123.46",
        containers=["CSQU3054384"],
        cargo={"gross_weight_kg": -5},
    )
    response = await client.post("/v1/manifests", json=bad, headers=_auth(keys["one"]))
    body = _problem(response, 422)
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert set(fields) == {"trailer_plate", "containers", "cargo.gross_weight_kg"}
    assert "motor vehicle's plate" in fields["trailer_plate"]
    assert "check digit" in fields["containers"]
    assert "pydantic" not in response.text and "Value error" not in response.text
    # a crossing window's bounds are both required (docs/http-api.md): the one left out named
    for bound in ("window_start", "window_end"):
        open_ended = {k: v for k, v in manifest_form("MF-2").items() if k != bound}
        left_out = await client.post("/v1/manifests", json=open_ended, headers=_auth(keys["one"]))
        assert _problem(left_out, 422)["type"].endswith(":invalid-request")
        assert [e["field"] for e in left_out.json()["errors"]] == [bound]

    broken = await client.post(
        "/v1/manifests",
        content=b'{"manifest_id": "MF-1",',
        headers=_auth(keys["one"]) | {"Content-Type": "application/json"},
    )
    assert "not valid JSON" in _problem(broken, 400)["detail"]
    not_object = await client.post("/v1/manifests", json=[1], headers=_auth(keys["one"]))
    assert "JSON object" in _problem(not_object, 422)["errors"][0]["message"]


async def test_an_unknown_route_is_a_problem_too(client: httpx.AsyncClient) -> None:
    """Outside /v1 as well (it was FastAPI's `{"detail": "Not Found"}` until 2026-12-05)."""
    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "no such route: GET /nowhere"


REFUSED = "refused"
PERISHABLE = [
    *[(given, True) for given in ("yes", "y", "TRUE", "on", "1", 1)],
    *[(given, False) for given in ("no", "N", "false", "off", "0", 0)],
    *[(given, REFUSED) for given in ("nein", "N/A", "", " no ", None, 2, 0.5)],
]
WEIGHT = [("18500", 18500.0), ("1.85e4", 18500.0), ("18,500", REFUSED), ("18 500 kg", REFUSED)]


def _on_the_topic(form: dict[str, Any], field: str) -> object:
    """What the `borderflow.manifests` worker's decoder reads `field` as."""
    try:
        manifest = decode_manifest(json.dumps(form).encode())
    except InvalidEvent as exc:
        assert exc.reason.startswith(f"{field}: "), exc.reason
        return REFUSED
    return manifest.cargo.gross_weight_kg if "." in field else getattr(manifest, field)


async def _over_http(
    client: httpx.AsyncClient, key: str, form: dict[str, Any], field: str
) -> object:
    response = await client.post("/v1/manifests", json=form, headers=_auth(key))
    if response.status_code == 422:
        assert [e["field"] for e in response.json()["errors"]] == [field], response.text
        return REFUSED
    assert response.status_code == 201, response.text
    stored = response.json()
    return stored["cargo"]["gross_weight_kg"] if "." in field else stored[field]


async def test_a_spelling_is_read_alike_over_http_and_on_the_topic(
    client: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    """A manifest system's spelling of a boolean or a number (`"perishable": "N"`,
    `"gross_weight_kg": "18500"`) is read by `POST /v1/manifests` as by the topic's
    decoder: as it says, or refused naming the field, never guessed (a "no" read as true
    would hold a perishable place for general cargo)."""
    found = []
    for n, (given, _) in enumerate(PERISHABLE):
        form = manifest_form(f"MF-P{n}") | {"perishable": given}
        over_http = await _over_http(client, keys["one"], form, "perishable")
        found.append((given, _on_the_topic(form, "perishable"), over_http))
    for n, (given, _) in enumerate(WEIGHT):
        form = manifest_form(f"MF-W{n}")
        form["cargo"] = form["cargo"] | {"gross_weight_kg": given}
        field = "cargo.gross_weight_kg"
        over_http = await _over_http(client, keys["one"], form, field)
        found.append((given, _on_the_topic(form, field), over_http))
    assert found == [(given, wanted, wanted) for given, wanted in [*PERISHABLE, *WEIGHT]]
