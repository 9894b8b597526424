"""The HTTP API against a running system: /health and /v1/queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from services.api.app import ApiContext, create_app
from services.bootstrap.serving import api_context
from services.runtime.settings import DatabaseSettings
from streams.topics import LANE_DECISIONS
from tests.integration.harness import (
    as_message,
    collect,
    fresh_broker,
    make_settings,
    manifest,
    publish,
    read,
    running_system,
    seed,
    staff_cookies,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _client(context: ApiContext) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(context))
    return httpx.AsyncClient(transport=transport, base_url="http://borderflow.test")


async def test_health_and_queue(database_settings: DatabaseSettings, tmp_path: Path) -> None:
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await seed(system.infra, manifest("MF-1", "29H12345"), now=T0)
            await publish(broker.bootstrap, as_message(read("q-1", "29H12345", T0)))
            await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1)

            async with _client(api_context(system.infra)) as client:
                health = await client.get("/health")
                # as monitors probe it (`curl -I`): was 405, `allow: GET`
                probed = await client.head("/health")
                anonymous = await client.get("/v1/queue")
                client.cookies.update(await staff_cookies(system.infra))
                queue = await client.get("/v1/queue")
                later = await client.get(
                    "/v1/queue", params={"at": (T0 + timedelta(hours=2)).isoformat()}
                )
                unknown_gate = await client.get("/v1/queue", params={"gate": "nowhere"})
                naive = await client.get("/v1/queue", params={"at": "2026-11-23T08:00:00"})
                bad_time = await client.get("/v1/queue", params={"at": "yesterday"})

    assert health.status_code == 200, health.text
    assert probed.status_code == 200, probed.text
    body = health.json()
    assert body["status"] == "ok"
    assert body["broker"]["ok"] and body["database"]["ok"]

    assert anonymous.status_code == 401  # every firm's trucks: staff only
    assert "control-room login" in anonymous.json()["detail"]
    assert queue.status_code == 200
    view = queue.json()
    assert view["gate_id"] == "huu-nghi"
    assert datetime.fromisoformat(view["as_of"]) == T0  # the latest event time seen
    lanes = {lane["lane_id"]: lane for lane in view["lanes"]}
    assert set(lanes) == {f"HN-E{i}" for i in range(1, 13)} | {f"HN-I{i}" for i in range(1, 13)}
    queued = [t for lane in lanes.values() for t in lane["trucks"]]
    assert [t["plate"] for t in queued] == ["29H12345"]
    assert queued[0]["manifest_id"] == "MF-1"

    assert all(not lane["trucks"] for lane in later.json()["lanes"])  # through by then
    assert unknown_gate.status_code == 404
    assert "unknown gate 'nowhere'" in unknown_gate.json()["detail"]
    assert unknown_gate.json()["errors"][0]["field"] == "gate"  # names the field
    assert naive.status_code == 422
    assert "offset" in naive.json()["detail"]
    assert bad_time.status_code == 422


async def test_health_reports_a_dead_broker(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            context = api_context(system.infra)
            await broker.stop()
            async with _client(context) as client:
                health = await client.get("/health")
                probed = await client.head("/health")  # the same answer, no body
    assert health.status_code == probed.status_code == 503
    body = health.json()
    assert body["status"] == "degraded"
    assert not body["broker"]["ok"]
    assert body["database"]["ok"]
