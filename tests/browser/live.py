"""A live system for the control-room tests: the embedded broker, the decider and lane-event
workers (tests/integration/harness.py), the HTTP API served by uvicorn on a real port, and
controller accounts."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import uvicorn

from services.api.app import create_app
from services.bootstrap import Infrastructure
from services.bootstrap.serving import api_context
from services.db.controllers import create_controller
from services.runtime.settings import DatabaseSettings
from streams.broker import EmbeddedBroker
from tests.integration.harness import Running, fresh_broker, make_settings, running_system

PASSWORD = "correct horse battery"


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the test owns the signals
        yield


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def served_api(infra: Infrastructure, port: int) -> AsyncIterator[_Server]:
    """The API on 127.0.0.1:`port` until the block ends (open streams are cut after 1 s)."""
    config = uvicorn.Config(
        create_app(api_context(infra)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(20):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.02)
        yield server
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)


async def add_controllers(infra: Infrastructure) -> None:
    """`ana` (controller) and `vic` (viewer), both with PASSWORD."""
    async with infra.sessions() as session, session.begin():
        for name, role in (("ana", "controller"), ("vic", "viewer")):
            await create_controller(
                session=session, username=name, role=role, password=PASSWORD, now=datetime.now(UTC)
            )


@contextlib.asynccontextmanager
async def running_room(tmp_path: Path) -> AsyncIterator[tuple[EmbeddedBroker, Running, str]]:
    """A live system on SQLite in `tmp_path` with the controllers, and its API served on a
    free port: the broker, the system and the API's base URL."""
    database = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}")
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database, tmp_path)
        async with running_system(settings) as system:
            await add_controllers(system.infra)
            port = free_port()
            async with served_api(system.infra, port):
                yield broker, system, f"http://127.0.0.1:{port}"
