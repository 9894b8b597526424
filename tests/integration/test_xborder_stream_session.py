"""The other side's live stream (`GET /v1/xborder/stream`) ends when its session does.
Found by a security review: a controller logged out (or disabled, or whose password was
changed) went on receiving the other side's state, alerts and crossings on an open stream
until its `max_s` ran out (up to 5 minutes), where the control room's own stream ends
within seconds. Now the session is checked at each look (every second): the stream's next
event is `bye` with the reason. A real server (the stream is read as it comes); SQLite and
PostgreSQL.

It also ends at once when the server begins to stop (the API context's `stopping`, as the
control room's and the drivers' streams do). Found by a helper stopping `borderflow up` with
Ctrl-C under an open control room (2026-12-06): the stream went on looking every second, so
uvicorn's graceful timeout (2 s) cancelled it and the log had "Exception in ASGI
application" and a CancelledError traceback at every stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.app import ApiContext, create_app
from services.db.controllers import close_session
from services.db.engine import session_factory
from services.gates.loader import default_gates
from streams.settings import KafkaSettings
from tests.browser.live import free_port
from tests.integration.harness import staff_cookies_on

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@contextlib.asynccontextmanager
async def serving(engine: AsyncEngine, stopping: asyncio.Event | None = None) -> AsyncIterator[str]:
    context = ApiContext(
        sessions=session_factory(engine),
        kafka=KafkaSettings(bootstrap="127.0.0.1:9"),
        bootstrap="127.0.0.1:9",
        gates=default_gates(),
        default_gate="huu-nghi",
        stopping=stopping or asyncio.Event(),
    )
    port = free_port()
    config = uvicorn.Config(
        create_app(context), host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):  # a hang guard
            while not server.started:
                await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_a_logged_out_session_stream_of_the_other_side_ends(engine: AsyncEngine) -> None:
    cookies = await staff_cookies_on(session_factory(engine))
    async with (
        serving(engine) as base,
        httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60) as client,
        client.stream("GET", "/v1/xborder/stream?max_s=300") as stream,
    ):
        assert stream.status_code == 200
        lines = stream.aiter_lines()
        assert await anext(lines) == "event: state"
        async with session_factory(engine)() as session, session.begin():
            await close_session(session=session, token=cookies["bf_control"])  # logged out
        async with asyncio.timeout(60):  # a hang guard: it ends within a second or two
            seen = [line async for line in lines]
    bye = seen.index("event: bye")
    assert seen[bye + 1] == 'data: {"reason": "session expired or logged out"}'
    assert "event: state" not in seen[bye:]


async def test_the_stream_of_the_other_side_says_bye_when_the_server_stops(
    engine: AsyncEngine,
) -> None:
    cookies = await staff_cookies_on(session_factory(engine))
    stopping = asyncio.Event()
    async with (
        serving(engine, stopping) as base,
        httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60) as client,
        client.stream("GET", "/v1/xborder/stream?max_s=300") as stream,
    ):
        assert stream.status_code == 200
        lines = stream.aiter_lines()
        assert await anext(lines) == "event: state"
        stopping.set()  # what the API does when uvicorn begins to stop
        async with asyncio.timeout(5):  # before: it ran on until max_s (300 s)
            seen = [line async for line in lines]
    bye = seen.index("event: bye")
    assert seen[bye + 1] == 'data: {"reason": "server stopping"}'
    assert "event: state" not in seen[bye:]
