"""The other side's live stream (`GET /v1/xborder/stream`) ends when its session does.
Found by a security review: a controller logged out (or disabled, or whose password was
changed) went on receiving the other side's state, alerts and crossings on an open stream
until its `max_s` ran out (up to 5 minutes), where the control room's own stream ends
within seconds. Now the session is checked at each look (every second): the stream's next
event is `bye` with the reason. A real server (the stream is read as it comes); SQLite and
PostgreSQL."""

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
async def serving(engine: AsyncEngine) -> AsyncIterator[str]:
    context = ApiContext(
        sessions=session_factory(engine),
        kafka=KafkaSettings(bootstrap="127.0.0.1:9"),
        bootstrap="127.0.0.1:9",
        gates=default_gates(),
        default_gate="huu-nghi",
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
