"""The API's `GET /metrics` while its database is away: 200 with every metric of the
process but the queue lengths (read from the database at scrape time, so left out rather
than served stale). It answered 500, so Prometheus lost the process's every metric,
borderflow_broker_up and the API's latency included, for as long as the database was away
(found by stopping an operator's PostgreSQL under a running API)."""

from __future__ import annotations

import socket

import httpx
from prometheus_client.parser import text_string_to_metric_families

from services.api.app import ApiContext, create_app
from services.db.engine import create_engine, session_factory
from services.gates.loader import default_gates
from services.runtime.metrics import LANE_QUEUE
from services.runtime.settings import DatabaseSettings
from streams.settings import KafkaSettings


async def test_metrics_are_served_without_the_queues_while_the_database_is_away() -> None:
    LANE_QUEUE.labels("huu-nghi", "HN-E1").set(3)  # as read by an earlier scrape
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        engine = create_engine(
            DatabaseSettings(url=f"postgresql+asyncpg://postgres@127.0.0.1:{port}/none")
        )
        context = ApiContext(
            sessions=session_factory(engine),
            kafka=KafkaSettings(),
            bootstrap="127.0.0.1:9",
            gates=default_gates(),
            default_gate="huu-nghi",
        )
        transport = httpx.ASGITransport(app=create_app(context))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/metrics")
        await engine.dispose()
    assert response.status_code == 200, response.text
    names = {f.name for f in text_string_to_metric_families(response.text)}
    assert "borderflow_broker_up" in names
    assert "borderflow_http_request_duration_seconds" in names
    assert "borderflow_lane_queue_length" in names  # the family, with no sample
    samples = [
        s
        for f in text_string_to_metric_families(response.text)
        if f.name == "borderflow_lane_queue_length"
        for s in f.samples
    ]
    assert samples == []  # not the stale 3
