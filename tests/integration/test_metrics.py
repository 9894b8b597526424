"""`/metrics` on the API and on a worker process, against the real broker and databases:
events consumed, produced and dead-lettered per topic, the decision histogram, consumer lag
per held partition, lane and review queue lengths, API latency by route template (never by
id), and JSON log lines that name the event they are about."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.api.app import create_app
from services.bootstrap import prepare_database
from services.bootstrap.serving import api_context
from services.db.engine import create_engine, session_factory
from services.db.manifests import upsert_manifests
from services.gates.loader import default_gates
from services.runtime.settings import DatabaseSettings
from streams.clients import ensure_topics
from streams.metrics import REGISTRY
from streams.topics import LANE_DECISIONS, PLATE_READS, all_topics
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

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _parse(body: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels` (0 when none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


def _now(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_api_metrics(database_settings: DatabaseSettings, tmp_path: Path) -> None:
    group = "borderflow-decider"
    consumed0 = _now("borderflow_events_consumed_total", topic=PLATE_READS.name, group=group)
    dead0 = _now(
        "borderflow_events_dead_lettered_total",
        topic=PLATE_READS.name,
        group=group,
        error_type="invalid_event",
    )
    produced0 = _now("borderflow_events_produced_total", topic=LANE_DECISIONS.name)
    decided0 = _now("borderflow_decision_batch_seconds_count")
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await seed(system.infra, manifest("MF-1", "29H12345"), now=T0)
            await publish(
                broker.bootstrap,
                as_message(read("m-1", "29H12345", T0)),
                as_message(read("m-2", "29H12345", T0, camera="cam-nowhere")),
            )
            (record,) = await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1)
            lane = json.loads(record.value)["data"]["lane_id"]
            transport = httpx.ASGITransport(app=create_app(api_context(system.infra)))
            async with httpx.AsyncClient(transport=transport, base_url="http://bf.test") as client:
                client.cookies.update(await staff_cookies(system.infra))
                assert (await client.get("/v1/queue")).status_code == 200
                by_id = await client.get("/v1/bookings/bk_secret123")
                assert by_id.status_code == 401
                assert (await client.get("/no/such/route")).status_code == 404
                response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _parse(response.text)
    http = "borderflow_http_request_duration_seconds_count"
    assert _value(samples, http, method="GET", route="/v1/queue", status="200") >= 1
    assert _value(samples, http, route="/v1/bookings/{booking_id}", status="401") >= 1
    assert _value(samples, http, route="unmatched", status="404") >= 1
    assert not any("bk_secret123" in str(labels) for _, labels in samples)
    # the truck is assigned and queued on its lane at the latest event time; nothing in review
    assert _value(samples, "borderflow_lane_queue_length", gate="huu-nghi", lane=lane) == 1
    assert _value(samples, "borderflow_lane_queue_length", gate="huu-nghi") == 1
    assert _value(samples, "borderflow_review_queue_length", gate="huu-nghi") == 0
    # the worker ran in this process: its counters are in the same registry
    consumed = _value(
        samples, "borderflow_events_consumed_total", topic=PLATE_READS.name, group=group
    )
    assert consumed - consumed0 == 2
    dead = _value(
        samples,
        "borderflow_events_dead_lettered_total",
        topic=PLATE_READS.name,
        error_type="invalid_event",
    )
    assert dead - dead0 == 1
    produced = _value(samples, "borderflow_events_produced_total", topic=LANE_DECISIONS.name)
    assert produced - produced0 == 1
    assert _value(samples, "borderflow_decision_batch_seconds_count") > decided0
    assert _value(samples, "process_resident_memory_bytes") > 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "worker", "matcher"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return _parse(response.read().decode())


async def test_a_worker_process_serves_metrics_and_logs_event_ids(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    engine = create_engine(database_settings)
    await prepare_database(engine, default_gates())
    async with session_factory(engine)() as session, session.begin():
        await upsert_manifests(session=session, manifests=[manifest("MF-1", "29H12345")], now=T0)
    await engine.dispose()
    port = _free_port()
    env = dict(os.environ)
    env.update(
        BORDERFLOW_DATABASE_URL=database_settings.url,
        BORDERFLOW_KAFKA_SESSION_TIMEOUT_MS="2000",
        BORDERFLOW_KAFKA_HEARTBEAT_INTERVAL_MS="500",
        BORDERFLOW_METRICS_PORT=str(port),
        BORDERFLOW_LOG_FORMAT="json",
    )
    if database_settings.schema_name:
        env["BORDERFLOW_DATABASE_SCHEMA_NAME"] = database_settings.schema_name
    log = tmp_path / "worker.log"
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        await ensure_topics(settings.kafka, broker.bootstrap, all_topics())
        env["BORDERFLOW_KAFKA_BOOTSTRAP"] = broker.bootstrap
        proc = _spawn(env, log)
        try:
            await publish(
                broker.bootstrap,
                as_message(read("w-1", "29H12345", T0)),
                as_message(read("w-bad", "29H12345", T0, camera="cam-nowhere")),
            )
            group = "borderflow-decider"
            samples: Samples = {}

            def done() -> bool:
                produced = "borderflow_events_produced_total"
                return (
                    _value(samples, produced, topic=LANE_DECISIONS.name) >= 1
                    and _value(samples, "borderflow_events_dead_lettered_total") >= 1
                    # counted once the dead letter's send is acknowledged, after the above
                    and _value(samples, produced, topic=f"{PLATE_READS.name}.dlq") >= 1
                )

            async with asyncio.timeout(60):
                while not done():
                    assert proc.poll() is None, log.read_text()[-3000:]
                    await asyncio.sleep(0.2)
                    try:
                        samples = await asyncio.to_thread(_scrape, port)
                    except OSError:
                        continue  # not listening yet
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0, log.read_text()[-3000:]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)

    topic = PLATE_READS.name
    assert _value(samples, "borderflow_events_consumed_total", topic=topic, group=group) == 2
    dead = "borderflow_events_dead_lettered_total"
    assert _value(samples, dead, topic=topic, group=group, error_type="invalid_event") == 1
    produced = "borderflow_events_produced_total"
    assert _value(samples, produced, topic=f"{topic}.dlq") == 1
    assert _value(samples, produced, topic=LANE_DECISIONS.name) == 1
    assert _value(samples, "borderflow_decision_batch_seconds_count") >= 1
    lags = {
        dict(labels)["partition"]: v
        for (name, labels), v in samples.items()
        if name == "borderflow_consumer_lag" and ("topic", topic) in labels
    }
    assert lags and set(lags.values()) == {0.0}  # caught up on every partition it read
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    dead_lines = [x for x in lines if x["message"].startswith("dead-lettering")]
    assert [x["event_id"] for x in dead_lines] == ["w-bad"]
    assert dead_lines[0]["topic"] == topic and dead_lines[0]["group"] == group
