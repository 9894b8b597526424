"""Every refusal is a problem with a type of its own (`urn:borderflow:problem:<slug>`) and,
where a field can be named, `errors` naming it: the control room's login lockout (429), a
missing or wrong key or session (401), a method a route does not take (405), a body too
large (413). Over HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from typing import Any, cast

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.app import ApiContext, create_app
from services.api.ratelimit import RateLimiter
from services.control.settings import ControlSettings
from services.control.state import ControlRoom
from services.control.throttle import LoginThrottle
from services.db.controllers import create_controller
from services.db.engine import session_factory
from services.gates.loader import default_gates
from services.runtime.settings import KafkaSettings
from tests.browser.live import PASSWORD
from tests.integration.test_bookings_api import T0, add_firms, auth, problem

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def make_client(engine: AsyncEngine) -> httpx.AsyncClient:
    """The app with a control room whose login and session checks work (no hub, no
    broker: the ASGI transport runs no lifespan, which is what builds the real one)."""
    context = ApiContext(
        sessions=session_factory(engine),
        kafka=KafkaSettings(bootstrap="127.0.0.1:9"),
        bootstrap="127.0.0.1:9",
        gates=default_gates(),
        default_gate="huu-nghi",
        limiter=RateLimiter(rate=10_000.0, burst=10_000),
    )
    app = create_app(context)
    settings = ControlSettings()
    app.state.control_room = ControlRoom(
        sessions=context.sessions,
        gates=context.gates,
        default_gate="huu-nghi",
        settings=settings,
        hub=cast(Any, None),
        producer=cast(Any, None),
        handlers=None,
        lock=asyncio.Lock(),
        login_throttle=LoginThrottle(settings.login_failures_max, settings.login_window_s),
    )
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://borderflow.test")


def fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body.get("errors", [])]


async def test_the_login_lockout_is_a_rate_limited_problem_with_retry_after(
    engine: AsyncEngine,
) -> None:
    """The sixth login after five failures was 429 with type about:blank."""
    async with make_client(engine) as client:
        login = {"username": "vic", "password": "guess"}
        for _ in range(5):
            failed = await client.post("/control/api/login", json=login)
            body = problem(failed, 401)
            assert body["type"] == "urn:borderflow:problem:login-failed"
            assert fields(body) == ["username", "password"]
        locked = await client.post("/control/api/login", json=login)
        body = problem(locked, 429)
        assert body["type"] == "urn:borderflow:problem:rate-limited"
        assert fields(body) == ["username"]
        assert body["detail"].startswith("username: too many failed logins")
        assert int(locked.headers["Retry-After"]) > 0


async def test_401_405_and_413_name_the_field_at_fault(engine: AsyncEngine) -> None:
    keys = await add_firms(engine, ["firm-a"])
    async with make_client(engine) as client:
        for headers in ({}, {"Authorization": "Basic x"}, {"Authorization": "Bearer nope"}):
            body = problem(await client.get("/v1/bookings", headers=headers), 401)
            assert body["type"] == "urn:borderflow:problem:unauthorized"
            assert fields(body) == ["Authorization"]
        body = problem(await client.get("/control/api/me"), 401)
        assert body["type"] == "urn:borderflow:problem:not-logged-in"
        assert fields(body) == ["bf_control"]

        wrong = await client.delete("/v1/bookings", headers=auth(keys["firm-a"]))
        body = problem(wrong, 405)
        assert body["type"] == "urn:borderflow:problem:method-not-allowed"
        assert fields(body) == ["method"] and "GET" in body["errors"][0]["message"]
        assert "GET" in wrong.headers["Allow"]

        big = await client.post(
            "/v1/manifests",
            content=b'{"manifest_id": "' + b"x" * (2 * 1024 * 1024) + b'"}',
            headers={**auth(keys["firm-a"]), "Content-Type": "application/json"},
        )
        body = problem(big, 413)
        assert body["type"] == "urn:borderflow:problem:body-too-large"
        assert fields(body) == ["body"]


def _routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) the app serves, each path parameter filled with `x`."""
    out = []
    for route in iter_route_contexts(app.routes):  # included routers' routes too
        for method in sorted(getattr(route, "methods", None) or ()):
            out.append((method, re.sub(r"\{[^}]+\}", "x", route.path)))
    return out


# answers that are not refusals whatever is sent (or that wait on the broker)
_SKIP = {"/health", "/metrics", "/", "/control", "/favicon.ico", "/d", "/d-static/driver.js"}


def _body(path: str) -> dict[str, str]:
    """A body the route takes, so that what is refused is the actor, not the body."""
    if "/alerts/" in path:
        return {"reason": "queue building up"}
    return {"action": "hold", "visit_id": "v-1", "reason": "queue building up"}


def _typed_naming(answer: httpx.Response, where: str) -> dict[str, Any]:
    """A refusal: problem+json, a urn type, and for a 4xx `errors` naming what is at fault."""
    assert answer.headers["content-type"].startswith("application/problem+json"), where
    body: dict[str, Any] = answer.json()
    assert body["type"].startswith("urn:borderflow:problem:"), (where, body)
    if answer.status_code < 500:
        assert fields(body), (where, body)
    return body


async def test_every_route_refuses_with_a_typed_problem(engine: AsyncEngine) -> None:
    """Each route of the app, asked with no key or session, with a method it does not take,
    and, logged in as a viewer, without then with the CSRF token: every refusal is a typed
    problem naming its field. The control room's 403s, the static-file, unknown-route and
    drivers' 404s were about:blank without `errors` (the staff views' 401 without `errors`)."""
    async with session_factory(engine)() as session, session.begin():
        await create_controller(
            session=session, username="vic", role="viewer", password=PASSWORD, now=T0
        )
    async with make_client(engine) as client:
        app = cast(Any, client._transport).app
        walked = [(m, p) for m, p in _routes(app) if p not in _SKIP and m != "HEAD"]
        assert ("POST", "/control/api/actions") in walked and ("GET", "/d/x") in walked
        for method, path in walked:
            where = f"{method} {path}"
            answer = await client.request(method, path)
            if answer.status_code >= 400:
                _typed_naming(answer, where)
            answer = await client.request("TRACE", path)
            assert _typed_naming(answer, where)["type"].endswith(":method-not-allowed")

        login = {"username": "vic", "password": PASSWORD}
        csrf = (await client.post("/control/api/login", json=login)).json()["csrf_token"]
        acting = 0
        for method, path in walked:
            if method not in {"POST", "PUT", "PATCH", "DELETE"} or not path.startswith(
                ("/control/api/", "/v1/xborder/")
            ):
                continue
            if path.endswith(("/login", "/logout")):
                continue
            for headers, field in (({}, "X-CSRF-Token"), ({"X-CSRF-Token": csrf}, "role")):
                answer = await client.request(method, path, json=_body(path), headers=headers)
                assert answer.status_code == 403, (method, path, answer.text)
                body = problem(answer, 403)
                assert body["type"] == "urn:borderflow:problem:not-allowed", body
                assert fields(body) == [field], (method, path, body)
                assert body["detail"].startswith(f"{field}: "), body
            acting += 1
        assert acting == 3  # the actions, an alert's action, an xborder acknowledgement

        # the details as they were, only typed and named
        answer = await client.get("/control/static/nope.js")
        body = problem(answer, 404)
        assert body["detail"] == "no static file 'nope.js'" and fields(body) == ["name"]
        body = problem(await client.get("/v1/nope"), 404)
        assert body["type"] == "urn:borderflow:problem:no-such-route"
        assert body["detail"] == "no such route: GET /v1/nope" and fields(body) == ["path"]
        body = problem(await client.get("/d/no-such-token/state"), 404)
        assert (body["type"], fields(body)) == ("urn:borderflow:problem:not-found", ["token"])
        body = problem(await client.get("/d/c/NOPE", headers={"Accept": "application/json"}), 404)
        assert (body["detail"], fields(body)) == ("no such code", ["code"])
        # a browser still gets a page in its language
        page = await client.get("/d/no-such-token", headers={"Accept": "text/html"})
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        client.cookies.clear()  # logged out: the staff views' 401 names the cookie
        body = problem(await client.get("/v1/queue"), 401)
        assert fields(body) == ["bf_control"]


async def test_the_control_room_not_started_is_a_typed_503(engine: AsyncEngine) -> None:
    async with make_client(engine) as client:
        del cast(Any, client._transport).app.state.control_room
        body = problem(await client.get("/control/api/state"), 503)
        assert body["type"] == "urn:borderflow:problem:not-started"
        assert body["detail"] == "control room: not started"


async def test_the_drivers_code_limit_names_the_code(engine: AsyncEngine) -> None:
    async with make_client(engine) as client:
        # codes of a code's shape (one that is not is neither looked up nor counted); the
        # guard's default allows far fewer codes not found
        for last in "23456789ABCDEFGHJKLMNPQRSTUVWXY":
            answer = await client.get(f"/d/c/ZZZZZZZ{last}", headers={"Accept": "application/json"})
            if answer.status_code == 429:
                break
        body = problem(answer, 429)
        assert body["type"] == "urn:borderflow:problem:rate-limited"
        assert fields(body) == ["code"] and body["detail"].startswith("too many codes not found")


async def test_a_firms_key_over_its_rate_names_the_authorization_header(
    engine: AsyncEngine,
) -> None:
    """The firm's key limit was a rate-limited problem without `errors`."""
    keys = await add_firms(engine, ["firm-a"])
    async with make_client(engine) as client:
        app = cast(Any, client._transport).app
        # one request at once, the next after 1000 s: the second is over the rate
        app.state.context = replace(app.state.context, limiter=RateLimiter(rate=0.001, burst=1))
        assert (await client.get("/v1/bookings", headers=auth(keys["firm-a"]))).status_code == 200
        body = problem(await client.get("/v1/bookings", headers=auth(keys["firm-a"])), 429)
        assert body["type"] == "urn:borderflow:problem:rate-limited"
        assert fields(body) == ["Authorization"]
        assert body["detail"].startswith("too many requests for API key ")
