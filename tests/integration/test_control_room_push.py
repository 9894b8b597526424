"""The control room's stream shows a board change as soon as the orchestrator saved it: a
carrier taken out of service and back, a lane with no queue closed and opened. Such a change
revises no decision, so no lane decision tells the room of it, and the lane event the room
hears is sent before the orchestrator applies it. On a real system (embedded broker, the
workers, the API on a TCP port), SQLite and PostgreSQL, with the room's periodic refresh
made an hour long: only the push can show the change. The orchestrator is held back as a
loaded machine holds it: it applies each lane event only once the room, having heard it,
has rebuilt its snapshot (which therefore cannot show the change yet). Until 2026-12-06 the
page showed it at its next refresh (10 s), and the browser test waited 15 s for it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.control import hub as hub_module
from services.control.patch import apply
from services.runtime.settings import DatabaseSettings
from services.service_layer.lane_events import ApplyLaneEvents, ApplyLaneEventsHandler
from streams.topics import LANE_EVENTS
from tests.browser.live import add_controllers, free_port, served_api
from tests.integration.harness import (
    as_message,
    fresh_broker,
    make_settings,
    publish,
    read,
    running_system,
)
from tests.integration.test_control_api import action, login

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 at the gate
WAIT_S = 20.0  # for a busy machine; the refresh, an hour, never comes within it


@dataclass
class Page:
    """What the control room page holds: the stream's snapshot, patched as it does."""

    snapshot: dict[str, Any] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def follow(self, lines: AsyncIterator[str]) -> None:
        kind = ""
        async for line in lines:
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: ") and kind in ("state", "patch"):
                body = json.loads(line.removeprefix("data: "))
                async with self.changed:
                    if kind == "state":
                        self.snapshot = body
                    else:
                        assert body["base"] == self.snapshot["seq"]
                        self.snapshot = apply(self.snapshot, body["diff"])
                    self.changed.notify_all()

    async def shows(self, what: Callable[[dict[str, Any]], bool]) -> None:
        async with asyncio.timeout(WAIT_S), self.changed:
            await self.changed.wait_for(lambda: bool(self.snapshot) and what(self.snapshot))


def carriers(snap: dict[str, Any]) -> dict[str, bool]:
    return {c["carrier_id"]: c["out_of_service"] for c in snap["carriers"]["carriers"]}


def lanes(snap: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lane["lane_id"]: lane for lane in snap["lanes"]}


@dataclass
class SlowOrchestrator:
    """Holds each lane-event batch until the room has heard a lane event and rebuilt a
    snapshot since (a build begun after it heard one has ended)."""

    heard: asyncio.Event = field(default_factory=asyncio.Event)
    rebuilt: asyncio.Event = field(default_factory=asyncio.Event)
    held: int = 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        gate_of, applying = hub_module.gate_of, ApplyLaneEventsHandler.__call__

        def hearing(topic: str, key: bytes | None, value: bytes | None) -> str | None:
            if topic == LANE_EVENTS.name:
                self.heard.set()
            return gate_of(topic, key, value)

        async def held_back(handler: ApplyLaneEventsHandler, cmd: ApplyLaneEvents) -> Any:
            await self.heard.wait()
            await self.rebuilt.wait()
            self.heard.clear()
            self.rebuilt.clear()
            self.held += 1
            return await applying(handler, cmd)

        monkeypatch.setattr(hub_module, "gate_of", hearing)
        monkeypatch.setattr(ApplyLaneEventsHandler, "__call__", held_back)

    def watch(self, hub: hub_module.LiveHub) -> None:
        build = hub.build

        async def building(gate_id: str) -> dict[str, Any]:
            after = self.heard.is_set()
            snapshot = await build(gate_id)
            if after:
                self.rebuilt.set()
            return snapshot

        hub.build = building


async def test_the_room_shows_a_carrier_or_an_empty_lane_changed_once_the_board_is_saved(
    database_settings: DatabaseSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BORDERFLOW_CONTROL_REFRESH_S", "3600")
    monkeypatch.setenv("BORDERFLOW_CONTROL_STREAM_LIFETIME_S", "600")
    slow = SlowOrchestrator()
    slow.install(monkeypatch)
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await add_controllers(system.infra)
            port = free_port()
            async with (
                served_api(system.infra, port) as server,
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
            ):
                slow.watch(server.config.app.state.control_room.hub)
                csrf = await login(client, "ana")
                page = Page()
                patient = httpx.Timeout(10.0, read=60.0)
                stream_it = client.stream("GET", "/control/api/stream", timeout=patient)
                async with stream_it as stream:
                    following = asyncio.create_task(page.follow(stream.aiter_lines()))
                    try:
                        await publish(broker.bootstrap, as_message(read("r-1", "29H12345", T0)))
                        await page.shows(lambda s: bool(carriers(s)))  # the board, saved
                        carrier = sorted(carriers(page.snapshot))[0]
                        assert carriers(page.snapshot)[carrier] is False

                        for kind, out in (("carrier_out", True), ("carrier_back", False)):
                            r = await action(
                                client, csrf, action=kind, carrier_id=carrier, reason="lidar"
                            )
                            assert r.status_code == 200, r.text
                            await page.shows(lambda s, out=out: carriers(s)[carrier] is out)

                        empty = sorted(
                            lane_id
                            for lane_id, lane in lanes(page.snapshot).items()
                            if lane["is_open"] and not lane["trucks"]
                        )[0]
                        for kind, is_open in (("close_lane", False), ("open_lane", True)):
                            r = await action(
                                client, csrf, action=kind, lane_id=empty, reason="power cut"
                            )
                            assert r.status_code == 200, r.text
                            await page.shows(lambda s, o=is_open: lanes(s)[empty]["is_open"] is o)
                        assert slow.held == 4
                    finally:
                        following.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await following
