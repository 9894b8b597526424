"""A driver's open page stream ends at once when the server begins to stop (the API's
context `stopping`, as the control room's stream does): before, it ran on until uvicorn's
graceful-shutdown timeout cancelled it, and `borderflow up` stopped by Ctrl-C with a
driver's page open logged "Exception in ASGI application" and a CancelledError traceback."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import httpx
from fastapi import FastAPI

from services.drivers.hub import DriverHub
from services.drivers.routes import drivers_router


def _app(hub: DriverHub, stopping: asyncio.Event) -> FastAPI:
    app = FastAPI()
    app.state.context = SimpleNamespace(stopping=stopping)
    app.include_router(drivers_router(hub, stream_lifetime_s=60))
    return app


async def test_an_open_stream_says_bye_when_the_server_stops() -> None:
    hub = DriverHub(secret=b"s")
    hub.publish({"v1": {"status": "waiting", "position": 2}})
    stopping = asyncio.Event()
    transport = httpx.ASGITransport(app=_app(hub, stopping))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        asyncio.get_running_loop().call_later(0.3, stopping.set)
        # the ASGI transport buffers the whole stream: it returns once the stream ends
        answer = await asyncio.wait_for(client.get(f"/d/{hub.token_for('v1')}/events"), 5.0)
    assert answer.status_code == 200
    assert answer.text.startswith('retry: 1000\nevent: state\ndata: {"position": 2')
    assert answer.text.endswith('event: bye\ndata: {"reason": "server stopping"}\n\n')


async def test_a_stream_still_follows_its_truck_until_the_server_stops() -> None:
    hub = DriverHub(secret=b"s")
    hub.publish({"v1": {"status": "waiting", "position": 2}})
    stopping = asyncio.Event()
    transport = httpx.ASGITransport(app=_app(hub, stopping))

    def later() -> None:
        hub.publish({"v1": {"status": "waiting", "position": 1}})
        # the stream hands the change on within one loop turn; 2 s leaves a loaded machine room
        asyncio.get_running_loop().call_later(2.0, stopping.set)

    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        asyncio.get_running_loop().call_later(0.3, later)
        answer = await asyncio.wait_for(client.get(f"/d/{hub.token_for('v1')}/events"), 5.0)
    assert answer.text.count("event: state\n") == 2
    assert 'data: {"position": 1, "status": "waiting"}' in answer.text
