"""The control room's "trucks in today", read over HTTP as the page reads it: a truck is
counted once, not again when the exit camera reads it leaving. Found by a stranger's try:
5,750 trucks in on a simulated day of 3,000 (each truck's exit reads open a visit of their
own, which the gate rightly does not decide, and the KPI counted visits)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.runtime.settings import DatabaseSettings
from streams.topics import LANE_DECISIONS
from tests.browser.live import PASSWORD, add_controllers, free_port, served_api
from tests.integration.harness import (
    collect,
    fresh_broker,
    make_settings,
    manifest,
    publish,
    read,
    running_system,
    seed,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 at the gate


async def _state_at(client: httpx.AsyncClient, at: datetime) -> dict[str, Any]:
    """The room's state once the gate's clock (the newest read handled) reaches `at`."""
    for _ in range(600):  # a condition, with a generous bound (60 s) for a loaded machine
        state: dict[str, Any] = (await client.get("/control/api/state")).json()
        if datetime.fromisoformat(state["as_of"]) >= at:
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"the gate's clock never reached {at}: {state['as_of']}")


async def test_a_truck_read_arriving_and_leaving_is_one_truck_in(tmp_path: Path) -> None:
    database = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}")
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database, tmp_path)
        async with running_system(settings) as system:
            await add_controllers(system.infra)
            await seed(system.infra, manifest("MF-1", "29H11111"), now=T0)
            arrived = [read(f"r-in-{n}", "29H11111", T0 + timedelta(seconds=n)) for n in (0, 2)]
            await publish(
                broker.bootstrap, *(("hn-exp-gate-1", json.dumps(r).encode()) for r in arrived)
            )
            await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1)
            left_at = T0 + timedelta(minutes=40)
            leaving = [
                read(
                    f"r-out-{n}", "29H11111", left_at + timedelta(seconds=n), camera="hn-exp-exit-1"
                )
                for n in (-2, 0)
            ]
            await publish(
                broker.bootstrap, *(("hn-exp-exit-1", json.dumps(r).encode()) for r in leaving)
            )

            port = free_port()
            async with (
                served_api(system.infra, port),
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
            ):
                r = await client.post(
                    "/control/api/login", json={"username": "vic", "password": PASSWORD}
                )
                assert r.status_code == 200, r.text
                kpis = (await _state_at(client, left_at))["kpis"]
                assert kpis["trucks_in"] == 1, kpis
                assert kpis["trucks_out"] == 1, kpis
