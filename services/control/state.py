"""The control room's running parts in one API process (built by the router's lifespan):
the live hub and its Kafka feed, a producer for lane events and controller actions, and the
actions' use case (its handler and decision outbox built by the composition root, through
the API context's `control_actions`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from aiokafka import AIOKafkaProducer
from fastapi import Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.model import Gate
from services.api.problems import ProblemError, gate_or_404
from services.control.hub import LiveHub, listen
from services.control.settings import ControlSettings
from services.control.snapshot import build_snapshot
from services.control.throttle import LoginThrottle
from services.db.boards import stored_lane_events
from services.service_layer.control import ControlRoomHandlers
from streams import clock
from streams.clients import make_producer

PRODUCER_NAME = "borderflow.control-room"


@dataclass
class ControlRoom:
    sessions: async_sessionmaker[AsyncSession]
    gates: Mapping[str, Gate]
    default_gate: str
    settings: ControlSettings
    hub: LiveHub
    producer: AIOKafkaProducer
    handlers: ControlRoomHandlers | None  # None: no composition root gave them (503)
    lock: asyncio.Lock  # one action at a time in this process (the DB locks across them)
    login_throttle: LoginThrottle
    producer_started: bool = False

    async def producer_ready(self) -> AIOKafkaProducer:
        """The producer, started on first use: the API starts, and serves the page, while
        the broker is away; an action then fails (503) rather than the whole API."""
        if not self.producer_started:
            await self.producer.start()
            self.producer_started = True
        return self.producer

    def gate(self, gate_id: str | None, *, field: str = "gate") -> Gate:
        return gate_or_404(self.gates, gate_id or self.default_gate, field=field)


def room_of(request: Request) -> ControlRoom:
    room: ControlRoom | None = getattr(request.app.state, "control_room", None)
    if room is None:
        raise ProblemError(503, "not-started", "control room: not started")
    return room


RoomDep = Annotated[ControlRoom, Depends(room_of)]


@contextlib.asynccontextmanager
async def control_room(app: FastAPI) -> AsyncIterator[None]:
    """The router's lifespan: start the feed, hub and producer; stop them in `finally`."""
    ctx: Any = app.state.context
    settings = ControlSettings()
    sessions: async_sessionmaker[AsyncSession] = ctx.sessions
    gates: Mapping[str, Gate] = ctx.gates

    async def build(gate_id: str) -> dict[str, Any]:
        async with sessions() as session:
            return await build_snapshot(
                session=session, gate=gates[gate_id], now=clock.wall_clock()
            )

    async def stored(event_ids: list[str]) -> set[str]:
        async with sessions() as session:
            return await stored_lane_events(session=session, event_ids=event_ids)

    hub = LiveHub(
        build=build,
        stored=stored,
        gates=list(gates),
        debounce_s=settings.debounce_ms / 1000,
        refresh_s=settings.refresh_s,
    )
    producer = make_producer(ctx.kafka, ctx.bootstrap, client_suffix="control-room")
    make_actions = ctx.control_actions
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(hub.run(stop), name="control-hub"),
        asyncio.create_task(
            listen(hub, settings=ctx.kafka, bootstrap=ctx.bootstrap, stop=stop),
            name="control-feed",
        ),
    ]
    app.state.control_room = ControlRoom(
        sessions=sessions,
        gates=gates,
        default_gate=ctx.default_gate,
        settings=settings,
        hub=hub,
        producer=producer,
        handlers=None if make_actions is None else make_actions(producer),
        lock=asyncio.Lock(),
        login_throttle=LoginThrottle(settings.login_failures_max, settings.login_window_s),
    )
    try:
        yield
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=5)
        await producer.stop()  # also when never started (aiokafka warns of it otherwise)
        app.state.control_room = None
