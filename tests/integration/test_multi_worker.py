"""Scaled out: two matchers and two orchestrators as real processes (`borderflow worker
matcher|orchestrator`) in shared consumer groups on the embedded broker and one PostgreSQL
schema. Reads are spread over every partition (a truck's three reads on three partitions,
so its visit is grouped across processes); mid-stream one process of each kind is killed
with SIGKILL and the survivor takes its partitions over. Every read is recorded, every
truck is one visit with one decision, every lane event is applied once, and no visit
revision reaches Kafka under two decision ids. Which process holds which partition is read
from the processes' own `/metrics` (the consumer-lag gauge exists per held partition)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.adapters import decision_outbox as outbox
from services.bootstrap import prepare_database
from services.db.board_tables import LaneEventRow
from services.db.engine import create_engine, session_factory
from services.db.manifests import upsert_manifests
from services.db.tables import DecisionRow, PlateReadRow, VisitRow
from services.gates.loader import default_gates
from services.runtime.settings import DatabaseSettings, KafkaSettings
from streams.clients import ensure_topics
from streams.topics import LANE_DECISIONS, LANE_EVENTS, PLATE_READS, all_topics
from tests.conftest import POSTGRES_URL
from tests.integration.harness import (
    as_message,
    collect,
    collect_to_end,
    fresh_broker,
    make_settings,
    manifest,
    publish,
    read,
    running_system,
    seed,
    wait_until,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.timeout(240),
    pytest.mark.faults,
]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 15:00 at the gate
TRUCKS = 360
WITHOUT_MANIFEST = 30
CAMERAS = ("hn-exp-approach-1", "hn-exp-gate-1", "hn-exp-gate-2")
LANES = ("HN-E1", "HN-E2", "HN-E3", "HN-E4", "HN-E5", "HN-E6")
EVERY = 30  # a lane closes at every 30th truck and reopens 15 trucks later


@pytest_asyncio.fixture
async def postgres() -> AsyncIterator[DatabaseSettings]:
    """A fresh schema on the PostgreSQL server, shared by every process of the test."""
    schema = f"bf_multi_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield DatabaseSettings(url=POSTGRES_URL, schema_name=schema)
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Worker:
    role: str
    name: str
    port: int
    log: Path
    proc: subprocess.Popen[bytes]

    def scrape(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """This process's metrics: (sample name, sorted labels) -> value."""
        url = f"http://127.0.0.1:{self.port}/metrics"
        with urllib.request.urlopen(url, timeout=30) as response:  # a hang guard only
            body = response.read().decode()
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body)
            for s in family.samples
        }

    def consumed(self, topic: str) -> float:
        return sum(
            v
            for (name, labels), v in self.scrape().items()
            if name == "borderflow_events_consumed_total" and ("topic", topic) in labels
        )

    def lagged_partitions(self, topic: str) -> set[int]:
        """The partitions of `topic` this process holds and has fetched from."""
        return {
            int(dict(labels)["partition"])
            for (name, labels), _ in self.scrape().items()
            if name == "borderflow_consumer_lag" and ("topic", topic) in labels
        }

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _start(role: str, name: str, bootstrap: str, db: DatabaseSettings, tmp: Path) -> Worker:
    port = _free_port()
    env = dict(os.environ)
    env.update(
        BORDERFLOW_KAFKA_BOOTSTRAP=bootstrap,
        BORDERFLOW_DATABASE_URL=db.url,
        BORDERFLOW_DATABASE_SCHEMA_NAME=str(db.schema_name),
        BORDERFLOW_KAFKA_CLIENT_ID=name,
        BORDERFLOW_KAFKA_SESSION_TIMEOUT_MS="2000",
        BORDERFLOW_KAFKA_HEARTBEAT_INTERVAL_MS="500",
        BORDERFLOW_KAFKA_MAX_BATCH="40",
        BORDERFLOW_METRICS_PORT=str(port),
        BORDERFLOW_LOG_FORMAT="json",
    )
    log = tmp / f"{name}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "worker", role],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    return Worker(role, name, port, log, proc)


def _lane_event(event_id: str, kind: str, at: datetime, lane_id: str) -> bytes:
    body = {"event_id": event_id, "gate_id": "huu-nghi", "kind": kind, "at": at.isoformat()}
    return json.dumps(body | {"lane_id": lane_id, "actor": "test"}).encode()


def _traffic() -> tuple[list[tuple[int, str, bytes]], list[bytes]]:
    """Reads as (partition, key, value), a truck's reads on three partitions in a row; and
    lane events, each lane closed and reopened in turn, in event-time order."""
    reads, events = [], []
    for i in range(TRUCKS):
        at = T0 + timedelta(seconds=20 * i)
        for j, camera in enumerate(CAMERAS):
            body = read(
                f"mw-{i}-{j}", f"29H{20000 + i}", at + timedelta(seconds=10 * j), camera=camera
            )
            reads.append(((i + j) % PLATE_READS.partitions, camera, json.dumps(body).encode()))
        if i % EVERY == 0:
            lane = LANES[(i // EVERY) % len(LANES)]
            events.append(_lane_event(f"le-{i}-c", "lane_closed", at, lane))
        if i % EVERY == EVERY // 2:
            lane = LANES[(i // EVERY) % len(LANES)]
            events.append(_lane_event(f"le-{i}-o", "lane_opened", at, lane))
    return reads, events


async def _publish(
    bootstrap: str,
    reads: list[tuple[int, str, bytes]],
    events: list[bytes],
    *,
    killed: asyncio.Event,
) -> None:
    """A third of the traffic, then (once the kill is done) the rest, at ~120 reads/s."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        per_event = len(reads) // len(events)
        for n, (partition, key, value) in enumerate(reads):
            if n == len(reads) // 3:
                await killed.wait()
            await producer.send(
                PLATE_READS.name, value=value, key=key.encode(), partition=partition
            )
            if n % per_event == 0 and n // per_event < len(events):
                await producer.send(LANE_EVENTS.name, value=events[n // per_event], key=b"huu-nghi")
            if n % 30 == 29:
                await asyncio.sleep(0.25)  # ~120 reads/s
        await producer.flush()
    finally:
        await producer.stop()


async def _until(
    predicate: Callable[[], Awaitable[bool]], workers: list[Worker], timeout: float
) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            for w in workers:
                assert w.proc.poll() is None, f"{w.name} exited:\n{w.tail()}"
            await asyncio.sleep(0.1)


@pytest.mark.postgres
async def test_two_matchers_two_orchestrators_one_of_each_killed(
    postgres: DatabaseSettings, tmp_path: Path
) -> None:
    engine = create_engine(postgres)
    sessions = session_factory(engine)
    await prepare_database(engine, default_gates())
    async with sessions() as session, session.begin():
        await upsert_manifests(
            session=session,
            manifests=[
                manifest(f"MW-{i}", f"29H{20000 + i}") for i in range(TRUCKS - WITHOUT_MANIFEST)
            ],
            now=T0,
        )
    reads, events = _traffic()

    async def count(row: type) -> int:
        async with sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(row)) or 0)

    async with fresh_broker(tmp_path) as broker:
        bootstrap = broker.bootstrap
        await ensure_topics(KafkaSettings(), bootstrap, all_topics())
        workers = [
            _start("matcher", "matcher-a", bootstrap, postgres, tmp_path),
            _start("matcher", "matcher-b", bootstrap, postgres, tmp_path),
            _start("orchestrator", "orchestrator-a", bootstrap, postgres, tmp_path),
            _start("orchestrator", "orchestrator-b", bootstrap, postgres, tmp_path),
        ]
        try:
            killed = asyncio.Event()
            publisher = asyncio.create_task(_publish(bootstrap, reads, events, killed=killed))
            matchers, orchestrators = workers[:2], workers[2:]

            async def both_matchers_busy_one_orchestrator_holding() -> bool:
                """Both matchers consuming, and one orchestrator holding the gate's lane-event
                partition (the lag gauge is set once it has fetched from it, and dropped
                while a rebalance moves it: so this is waited for, not assumed)."""
                if await count(LaneEventRow) < 2:
                    return False
                try:
                    busy = all(w.consumed(PLATE_READS.name) > 0 for w in matchers)
                    holding = [w for w in orchestrators if w.lagged_partitions(LANE_EVENTS.name)]
                except OSError:  # a metrics server not up yet
                    return False
                return busy and len(holding) == 1

            # the publisher waits for the kill after a third of the reads: it cannot run out
            await _until(both_matchers_busy_one_orchestrator_holding, workers, timeout=90)
            assert not publisher.done(), "the kill must land mid-stream"
            holders = [w for w in orchestrators if w.lagged_partitions(LANE_EVENTS.name)]
            assert len(holders) == 1, "one gate: its lane events are on one partition"
            victims = [matchers[0], holders[0]]
            survivors = [w for w in workers if w not in victims]
            for victim in victims:
                victim.proc.send_signal(signal.SIGKILL)
                victim.proc.wait(10)
            events_at_kill = await count(LaneEventRow)
            killed.set()
            await publisher

            state: dict[str, object] = {}

            async def all_done() -> bool:
                async with sessions() as session:
                    pending = await session.scalar(
                        select(func.count())
                        .select_from(DecisionRow)
                        .where(DecisionRow.published_at.is_(None))
                    )
                state.update(
                    reads=await count(PlateReadRow),
                    events=await count(LaneEventRow),
                    pending=pending,
                )
                return state == {"reads": len(reads), "events": len(events), "pending": 0}

            try:
                await _until(all_done, survivors, timeout=120)
            except TimeoutError:
                held = {w.name: w.lagged_partitions(PLATE_READS.name) for w in survivors}
                raise AssertionError(f"not done: {state}; survivors hold {held}") from None
            # the survivors hold every partition now (each has fetched from all of them)
            matcher, orchestrator = survivors[0], next(w for w in survivors if w.role != "matcher")
            assert matcher.lagged_partitions(PLATE_READS.name) == set(range(PLATE_READS.partitions))
            assert events_at_kill < len(events), "lane events were left for the survivor"
            assert orchestrator.lagged_partitions(LANE_EVENTS.name)
            for w in survivors:
                w.proc.send_signal(signal.SIGTERM)
            for w in survivors:
                assert w.proc.wait(30) == 0, w.tail()
        finally:
            for w in workers:
                if w.proc.poll() is None:
                    w.proc.kill()
                    w.proc.wait(10)
        on_kafka = await collect_to_end(bootstrap, LANE_DECISIONS.name)

    async with sessions() as session:
        read_ids = set(await session.scalars(select(PlateReadRow.event_id)))
        final = {
            v: (d, r)
            for v, d, r in (
                await session.execute(
                    select(DecisionRow.visit_id, DecisionRow.decision_id, DecisionRow.revision)
                )
            ).all()
        }
        visits = await session.scalar(select(func.count()).select_from(VisitRow))
        applied = set(await session.scalars(select(LaneEventRow.event_id)))
    await engine.dispose()

    assert read_ids == {f"mw-{i}-{j}" for i in range(TRUCKS) for j in range(len(CAMERAS))}
    assert visits == TRUCKS == len(final)  # no truck split into two visits across processes
    assert applied == {json.loads(e)["event_id"] for e in events}
    published: dict[tuple[str, int], set[str]] = {}
    for record in on_kafka:
        data = json.loads(record.value)["data"]
        published.setdefault((data["visit_id"], data["revision"]), set()).add(data["decision_id"])
    # At-least-once on Kafka: a copy re-sent after the kill carries the same decision_id;
    # never two decisions for one visit revision, and every visit's latest is the stored one.
    assert all(len(ids) == 1 for ids in published.values()), {
        k: v for k, v in published.items() if len(v) > 1
    }
    assert {v for v, rev in published if rev == 0} == set(final)
    latest = {v: max(rev for w, rev in published if w == v) for v in final}
    assert {v: (published[(v, latest[v])].copy().pop(), latest[v]) for v in final} == final


async def test_a_live_worker_publishes_what_a_dead_peer_committed_and_never_sent(
    database_settings: DatabaseSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scaled out, nobody restarts in a dead process's place: the decisions it committed
    but never published are found by the live processes' outbox sweep and published."""
    monkeypatch.setattr(outbox, "SWEEP_EVERY_S", 0.3)
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await seed(system.infra, manifest("MF-1", "29H12345"), now=T0)
            await publish(broker.bootstrap, as_message(read("o-1", "29H12345", T0)))
            await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1)

            async def marked_published() -> bool:
                async with system.infra.sessions() as session:
                    at = await session.scalar(select(DecisionRow.published_at))
                return at is not None

            await wait_until(marked_published)
            async with system.infra.sessions() as session, session.begin():
                row = await session.scalar(select(DecisionRow))
                assert row is not None
                values = {c.key: getattr(row, c.key) for c in DecisionRow.__table__.columns}
                values |= {"decision_id": "d-orphan", "visit_id": "v-orphan", "published_at": None}
                await session.execute(insert(DecisionRow).values(**values))
            records = await collect(broker.bootstrap, LANE_DECISIONS.name, expect=2, timeout=30)

            async def orphan_marked() -> bool:
                async with system.infra.sessions() as session:
                    at = await session.scalar(
                        select(DecisionRow.published_at).where(
                            DecisionRow.decision_id == "d-orphan"
                        )
                    )
                return at is not None

            await wait_until(orphan_marked)  # TimeoutError: published but never marked
    ids = [json.loads(r.value)["data"]["decision_id"] for r in records]
    assert "d-orphan" in ids, ids
