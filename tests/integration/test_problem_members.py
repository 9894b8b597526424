"""Every refusal is a problem with a type of its own (`urn:borderflow:problem:<slug>`) and,
where a field can be named, `errors` naming it: the control room's login lockout (429), a
missing or wrong key or session (401), a method a route does not take (405), a body too
large (413). Over HTTP, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.app import ApiContext, create_app
from services.api.ratelimit import RateLimiter
from services.control.settings import ControlSettings
from services.control.state import ControlRoom
from services.control.throttle import LoginThrottle
from services.db.engine import session_factory
from services.gates.loader import default_gates
from services.runtime.settings import KafkaSettings
from tests.integration.test_bookings_api import add_firms, auth, problem

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
