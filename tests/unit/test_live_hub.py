"""The control room's live hub (services/control/hub.py): what `GET /control/api/state`
reads when no page streams the gate. Found by a fresh-clone CI run: a client polling the
state while the gate's clock moved (exit reads, which change no decision and notify the hub
of nothing) got the first snapshot for ever, so `test_control_kpis` waited in vain
whenever its first poll came before the exit reads were handled."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from services.control.hub import LiveHub


def _counting_hub(refresh_s: float) -> tuple[LiveHub, list[int]]:
    built: list[int] = []

    async def build(gate_id: str) -> dict[str, Any]:
        built.append(len(built) + 1)
        return {"gate": gate_id, "n": len(built)}

    return LiveHub(build=build, gates=["g"], refresh_s=refresh_s), built


async def test_a_snapshot_nobody_streams_is_rebuilt_once_it_is_a_refresh_old() -> None:
    hub, built = _counting_hub(refresh_s=0.0)  # every snapshot is at least that old
    first = await hub.current("g")
    second = await hub.current("g")
    assert built == [1, 2] and second.seq > first.seq


async def test_a_fresh_snapshot_is_served_as_it_is() -> None:
    hub, built = _counting_hub(refresh_s=3600.0)
    first = await hub.current("g")
    assert await hub.current("g") is first and built == [1]


async def test_a_streamed_gate_is_left_to_the_hub_s_own_refresh() -> None:
    hub, built = _counting_hub(refresh_s=0.0)
    first = await hub.current("g")
    async with hub.subscribe("g"):
        assert await hub.current("g") is first and built == [1]


async def test_a_streamed_gate_is_rebuilt_once_its_awaited_lane_event_is_applied() -> None:
    """The hub heard a lane event before the orchestrator applied it: it rebuilds once the
    store says the event is recorded, not at the refresh (an hour here)."""
    applied: set[str] = set()
    asked = asyncio.Event()

    async def stored(event_ids: list[str]) -> set[str]:
        asked.set()
        return applied & set(event_ids)

    hub, built = _counting_hub(refresh_s=3600.0)
    hub.stored, hub.poll_s, hub.debounce_s = stored, 0.0, 0.0
    stop = asyncio.Event()
    async with hub.subscribe("g") as queue:
        running = asyncio.create_task(hub.run(stop))
        hub.await_lane_event("g", "le-1")
        await asyncio.wait_for(asked.wait(), timeout=20)
        assert built == [] and queue.empty()  # not applied yet: nothing to show
        applied.add("le-1")
        published = await asyncio.wait_for(queue.get(), timeout=20)
        assert json.loads(published.data)["n"] == 1
        stop.set()
        await asyncio.wait_for(running, timeout=20)
    assert hub._awaited == {}
