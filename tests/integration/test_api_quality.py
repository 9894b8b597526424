"""API quality on a real database: request ids, per-key rate limits (429 + Retry-After)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.app import ApiContext, create_app
from services.api.ratelimit import RateLimiter
from services.db.engine import session_factory
from services.db.firms import create_firm
from services.gates.loader import default_gates
from services.runtime.settings import KafkaSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _client(engine: AsyncEngine, limiter: RateLimiter) -> httpx.AsyncClient:
    context = ApiContext(
        sessions=session_factory(engine),
        kafka=KafkaSettings(bootstrap="127.0.0.1:9"),
        bootstrap="127.0.0.1:9",
        gates=default_gates(),
        default_gate="huu-nghi",
        limiter=limiter,
    )
    transport = httpx.ASGITransport(app=create_app(context))
    return httpx.AsyncClient(transport=transport, base_url="http://borderflow.test")


async def test_each_key_is_limited_with_retry_after(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session, session.begin():
        one = await create_firm(session=session, firm_id="firm-01", name="One", now=T0)
        two = await create_firm(session=session, firm_id="firm-02", name="Two", now=T0)
    async with _client(engine, RateLimiter(rate=0.5, burst=3)) as client:
        answers = [
            await client.get("/v1/manifests", headers={"Authorization": f"Bearer {one.key}"})
            for _ in range(4)
        ]
        other = await client.get("/v1/manifests", headers={"Authorization": f"Bearer {two.key}"})
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    limited = answers[-1]
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert int(limited.headers["retry-after"]) >= 1
    assert "too many requests" in limited.json()["detail"]
    assert other.status_code == 200  # firm-02's key has its own bucket


async def test_a_429_says_the_wait_its_retry_after_header_gives(engine: AsyncEngine) -> None:
    """Found by a firm's integrator: at 2 a second the detail said "retry after 0.0 s" (a
    wait under 0.05 s, rounded) while `Retry-After` said 1; a client reading the detail retried
    at once and was refused again. The clock is frozen: the wait is 1/rate, 0.01 s."""
    async with session_factory(engine)() as session, session.begin():
        one = await create_firm(session=session, firm_id="firm-01", name="One", now=T0)
    limiter = RateLimiter(rate=100.0, burst=1, clock=lambda: 0.0)
    async with _client(engine, limiter) as client:
        key = {"Authorization": f"Bearer {one.key}"}
        assert (await client.get("/v1/manifests", headers=key)).status_code == 200
        limited = await client.get("/v1/manifests", headers=key)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "1"
    assert limited.json()["detail"].endswith("retry after 1 s (Retry-After)")


async def test_request_ids_are_kept_or_made_and_logged(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="borderflow.access")
    async with _client(engine, RateLimiter(rate=10, burst=10)) as client:
        given = await client.get("/v1/manifests", headers={"X-Request-ID": "gate-7.req-42"})
        made = await client.get("/v1/manifests", headers={"X-Request-ID": "bad id\twith space"})
    assert given.headers["x-request-id"] == "gate-7.req-42"
    assert made.headers["x-request-id"] != "bad id\twith space"
    assert len(made.headers["x-request-id"]) == 36  # a fresh UUID
    lines = [r for r in caplog.records if r.name == "borderflow.access"]
    assert any("GET /v1/manifests 401" in r.getMessage() for r in lines)


async def test_unknown_query_parameters_and_odd_ids_are_refused_precisely(
    engine: AsyncEngine,
) -> None:
    async with session_factory(engine)() as session, session.begin():
        firm = await create_firm(session=session, firm_id="firm-01", name="One", now=T0)
    headers = {"Authorization": f"Bearer {firm.key}"}
    async with _client(engine, RateLimiter(rate=10, burst=10)) as client:
        typo = await client.get("/v1/bookings?limt=5", headers=headers)
        twice = await client.get("/v1/manifests?after=a&after=null", headers=headers)
        control = await client.get("/v1/manifests/a%00b", headers=headers)
        not_utf8 = await client.post(
            "/v1/manifests",
            content=b"\xff\xfe{",
            headers=headers | {"Content-Type": "application/json"},
        )
    assert typo.status_code == 422
    assert typo.json()["errors"] == [
        {
            "field": "limt",
            "message": "unknown query parameter 'limt' "
            "(this operation takes: after, limit, status)",
        }
    ]
    # a one-value parameter given twice is refused, not decided by whichever came last
    assert twice.status_code == 422
    assert twice.headers["content-type"].startswith("application/problem+json")
    assert twice.json()["errors"] == [
        {"field": "after", "message": "query parameter 'after' takes one value and was given 2"}
    ]
    assert control.status_code == 422
    assert control.json()["errors"][0]["field"] == "manifest_id"
    assert not_utf8.status_code == 400
    assert not_utf8.json()["errors"][0]["field"] == "body"


async def test_a_firm_key_opens_no_gate_wide_view(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session, session.begin():
        firm = await create_firm(session=session, firm_id="firm-01", name="One", now=T0)
    headers = {"Authorization": f"Bearer {firm.key}"}
    async with _client(engine, RateLimiter(rate=10, burst=10)) as client:
        answers = [await client.get(path, headers=headers) for path in ("/v1/queue", "/v1/review")]
        client.cookies.set("bf_control", "forged")
        forged = await client.get("/v1/review")
    assert [a.status_code for a in answers] == [401, 401]
    assert all(a.json()["type"] == "urn:borderflow:problem:unauthorized" for a in answers)
    assert forged.status_code == 401
    assert "session expired or logged out" in forged.json()["detail"]


async def test_wrong_content_type_and_unknown_routes_are_problems(engine: AsyncEngine) -> None:
    """Found by a stranger's try: a JSON body sent as text/plain was a 422 saying every field
    was missing, and an unknown route (under /d/ too) answered FastAPI's plain JSON."""
    async with session_factory(engine)() as session, session.begin():
        firm = await create_firm(session=session, firm_id="firm-01", name="One", now=T0)
    headers = {"Authorization": f"Bearer {firm.key}"}
    async with _client(engine, RateLimiter(rate=10, burst=10)) as client:
        as_text = await client.post(
            "/v1/manifests",
            content=b'{"manifest_id": "M-1"}',
            headers=headers | {"Content-Type": "text/plain"},
        )
        as_form = await client.post("/v1/manifests", data={"manifest_id": "M-1"}, headers=headers)
        as_problem_json = await client.post(
            "/v1/manifests",
            content=b"{}",
            headers=headers | {"Content-Type": "application/merge-patch+json"},
        )
        unknown = [await client.get(path) for path in ("/nowhere", "/d/x/y/z", "/v1/nowhere")]
        wrong_method = await client.delete("/v1/manifests", headers=headers)
    for answer in (as_text, as_form):
        assert answer.status_code == 415
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["errors"][0]["field"] == "Content-Type"
        assert "application/json" in answer.json()["detail"]
    assert as_problem_json.status_code == 422  # a JSON type: the fields are what is wrong
    for answer in unknown:
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["detail"].startswith("no such route: GET /")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"].startswith("application/problem+json")
    # every method the path takes (Starlette named only its first route's: 'POST' here)
    assert wrong_method.headers["allow"] == "GET, POST"


async def test_a_json_body_sent_without_a_content_type_is_a_415_naming_it(
    engine: AsyncEngine,
) -> None:
    """Found by a firm's integrator (2026-12-06, curl with the header left out, and Python's
    http.client, which sends none): a JSON object sent with no Content-Type at all was a 422
    `body: expected a JSON object`, though it was one: the type is what is missing, as a
    text/plain body is a 415 naming Content-Type. An empty body stays the 422 saying so."""
    async with session_factory(engine)() as session, session.begin():
        firm = await create_firm(session=session, firm_id="firm-01", name="One", now=T0)
    headers = {"Authorization": f"Bearer {firm.key}"}
    body = b'{"manifest_id": "M-1", "slot_start": "2027-03-10T09:00:00+07:00"}'
    async with _client(engine, RateLimiter(rate=10, burst=10)) as client:
        untyped = [
            await client.post(path, content=body, headers=headers | extra)
            for path, extra in (
                ("/v1/bookings", {"Idempotency-Key": "k-1"}),
                ("/v1/manifests", {}),
                ("/v1/bookings/bk_1/cancel", {}),
            )
        ]
        empty = await client.post("/v1/manifests", headers=headers)
    for answer in untyped:
        assert "content-type" not in answer.request.headers
        assert answer.status_code == 415, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        problem = answer.json()
        assert problem["type"] == "urn:borderflow:problem:unsupported-media-type"
        assert problem["errors"][0]["field"] == "Content-Type"
        assert "no Content-Type" in problem["detail"] and "application/json" in problem["detail"]
    assert empty.status_code == 422, empty.text
    assert empty.json()["errors"] == [
        {"field": "body", "message": "the request has no body: send it as JSON"}
    ]


async def test_a_body_nested_too_deep_is_told_so_not_to_send_utf8(engine: AsyncEngine) -> None:
    """Found by a firm's integrator (2026-12-06): a JSON body of 5,000 arrays one inside the
    other, valid UTF-8, was a 400 'not readable as JSON (There was an error parsing the
    body): send UTF-8 JSON', the advice for bytes that are not UTF-8 (still given for them):
    the parser's recursion limit was what refused it."""
    async with session_factory(engine)() as session, session.begin():
        firm = await create_firm(session=session, firm_id="firm-01", name="One", now=T0)
    headers = {"Authorization": f"Bearer {firm.key}", "Content-Type": "application/json"}
    async with _client(engine, RateLimiter(rate=10, burst=10)) as client:
        deep = await client.post(
            "/v1/manifests", content=b"[" * 5000 + b"]" * 5000, headers=headers
        )
        not_utf8 = await client.post(
            "/v1/manifests", content=b'{"manifest_id": "M-\xff\xfe"}', headers=headers
        )
    for answer in (deep, not_utf8):
        assert answer.status_code == 400, answer.text
        assert answer.json()["type"] == "urn:borderflow:problem:invalid-json"
        assert answer.json()["errors"][0]["field"] == "body"
    assert "nested too deeply" in deep.json()["detail"], deep.text
    assert "UTF-8" not in deep.json()["detail"]
    assert "send UTF-8 JSON" in not_utf8.json()["detail"]


async def test_a_trailing_slash_is_redirected_with_a_body_that_says_so(
    engine: AsyncEngine,
) -> None:
    """Found by a stranger firm with curl (2026-12-06): `curl -X POST .../v1/bookings/`
    answered a bare 307 with an empty body, and curl (which does not follow redirects unless
    told) printed nothing. The redirect stays (clients that follow it keep working), now
    with a JSON body naming the route; a path with no route either way is still a 404."""
    async with session_factory(engine)() as session, session.begin():
        firm = await create_firm(session=session, firm_id="firm-01", name="One", now=T0)
    headers = {"Authorization": f"Bearer {firm.key}"}
    async with _client(engine, RateLimiter(rate=10, burst=10)) as client:
        post = await client.post("/v1/bookings/", json={}, headers=headers)
        get = await client.get("/v1/bookings/?limit=5", headers=headers)
        followed = await client.get("/v1/bookings/?limit=5", headers=headers, follow_redirects=True)
        nowhere = await client.get("/v1/nowhere/")
    for answer, method in ((post, "POST"), (get, "GET")):
        assert answer.status_code == 307
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json()["detail"].startswith(
            f"{method} /v1/bookings/: this route is /v1/bookings, without the trailing slash"
        )
    assert post.headers["location"].endswith("/v1/bookings")
    assert get.headers["location"].endswith("/v1/bookings?limit=5")
    assert followed.status_code == 200
    assert nowhere.status_code == 404
