"""Test harness: a fresh embedded broker per test and the real system around it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.model import CustomsStatus, Direction, Manifest
from services.bootstrap import (
    Infrastructure,
    build_decider,
    build_lane_events,
    build_manifest_intake,
    infrastructure,
)
from services.control.auth import COOKIE
from services.db.alert_tables import WeighingRow
from services.db.controllers import create_controller, open_session
from services.db.manifests import upsert_manifests
from services.runtime.settings import DatabaseSettings, KafkaSettings, Settings
from services.workers.decider import Decider, GateRead
from services.workers.manifests import ManifestIntake
from streams.broker import EmbeddedBroker
from streams.manifests import ManifestV1
from streams.runtime import ConsumerRuntime
from streams.topics import PLATE_READS, WEIGH_IN_MOTION


@contextlib.asynccontextmanager
async def fresh_broker(tmp_path: Path) -> AsyncIterator[EmbeddedBroker]:
    """A broker of the test's own: fixed topic names never see another test's data."""
    broker = EmbeddedBroker(log_path=tmp_path / "tansu.log")
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


def make_settings(bootstrap: str, database: DatabaseSettings, var_dir: Path) -> Settings:
    return Settings(
        kafka=KafkaSettings(
            bootstrap=bootstrap,
            session_timeout_ms=2000,
            heartbeat_interval_ms=500,
            fetch_max_wait_ms=20,
        ),
        database=database,
        var_dir=var_dir,
    )


@dataclass
class Running:
    infra: Infrastructure
    decider: Decider
    runtime: ConsumerRuntime[GateRead]
    stop: asyncio.Event
    task: asyncio.Task[None]


@contextlib.asynccontextmanager
async def running_system(settings: Settings) -> AsyncIterator[Running]:
    async with infrastructure(settings) as infra:
        decider, runtime = build_decider(infra)
        _, lane_events = build_lane_events(infra)
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop))
        events_task = asyncio.create_task(lane_events.run(stop))
        try:
            await asyncio.wait_for(runtime.ready.wait(), timeout=20)
            await asyncio.wait_for(lane_events.ready.wait(), timeout=20)
            yield Running(infra, decider, runtime, stop, task)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=20)
            await asyncio.wait_for(events_task, timeout=20)


def manifest(
    manifest_id: str,
    plate: str,
    *,
    direction: Direction = Direction.EXPORT,
    customs: CustomsStatus = CustomsStatus.CLEARED,
    containers: tuple[str, ...] = (),
    hazmat: str | None = None,
) -> Manifest:
    return Manifest(
        manifest_id=manifest_id,
        firm_id="firm-01",
        direction=direction,
        tractor_plate=plate,
        containers=containers,
        customs_status=customs,
        hazmat_class=hazmat,
    )


async def seed(infra: Infrastructure, *manifests: Manifest, now: datetime) -> None:
    async with infra.sessions() as session, session.begin():
        await upsert_manifests(session=session, manifests=list(manifests), now=now)


def read(
    event_id: str,
    plate_text: str,
    at: datetime,
    *,
    camera: str = "hn-exp-gate-1",
    confidence: float = 0.93,
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "camera_id": camera,
        "captured_at": at.isoformat(),
        "plate_text": plate_text,
        "confidence": confidence,
    }


def envelope(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": payload["event_id"],
        "type": "plate_read",
        "version": 1,
        "occurred_at": payload["captured_at"],
        "producer": "test-camera-gateway",
        "data": payload,
    }


async def publish(bootstrap: str, *messages: tuple[str, bytes]) -> None:
    """Send (key, value) pairs to the plate-reads topic, each acknowledged."""
    await publish_to(bootstrap, PLATE_READS.name, *messages)


def as_message(payload: dict[str, Any]) -> tuple[str, bytes]:
    """A plain-JSON read keyed by its camera."""
    return str(payload["camera_id"]), json.dumps(payload).encode()


def _reader(bootstrap: str, *topics: str) -> AIOKafkaConsumer:
    """A consumer outside any group, from the beginning, committing nothing."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        fetch_max_wait_ms=20,
    )


async def collect(
    bootstrap: str,
    topic: str,
    *,
    expect: int = 0,
    until: Callable[[list[Any]], bool] | None = None,
    timeout: float = 20.0,
) -> list[Any]:
    """Read `topic` from the beginning until `expect` records arrived and `until(records)`
    holds (or time out)."""
    consumer = _reader(bootstrap, topic)
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            while len(records) < expect or (until is not None and not until(records)):
                batch = await consumer.getmany(timeout_ms=200)
                for part in batch.values():
                    records.extend(part)
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return records


async def collect_to_end(bootstrap: str, topic: str, *, timeout: float = 60.0) -> list[Any]:
    """Every record `topic` holds now: read from the beginning up to each partition's end
    offset as it is when called. A condition, not a time window: on a loaded machine it
    waits as long as reading takes (TimeoutError after `timeout`), and a topic that does
    not exist holds nothing."""
    consumer = _reader(bootstrap)
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            if topic not in await consumer.topics():
                return []
            partitions = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            behind = list(tps)
            while behind:
                batch = await consumer.getmany(*tps, timeout_ms=200)
                for part in batch.values():
                    records.extend(part)
                behind = [tp for tp in behind if await consumer.position(tp) < ends[tp]]
    finally:
        await consumer.stop()
    return records


def decision_payloads(records: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(r.value)["data"] for r in records]


async def wait_until(predicate: Any, *, timeout: float = 20.0, every: float = 0.05) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(every)


# -- manifest intake (issue 3) ---------------------------------------------------------


def weighing_form(
    at: datetime, plate_text: str, gross_weight_kg: float, *, event_id: str = "w-1"
) -> dict[str, Any]:
    """A weigh-in-motion record (`WeighInMotionV1` JSON) of station wim-1 at Huu Nghi."""
    return {
        "event_id": event_id,
        "station_id": "wim-1",
        "gate_id": "huu-nghi",
        "captured_at": at.isoformat(),
        "plate_text": plate_text,
        "gross_weight_kg": gross_weight_kg,
    }


def manifest_form(manifest_id: str, **fields: Any) -> dict[str, Any]:
    """A valid intake form (`ManifestV1` JSON) for firm-01, with `fields` overriding."""
    form: dict[str, Any] = {
        "manifest_id": manifest_id,
        "firm_id": "firm-01",
        "direction": "export",
        "tractor_plate": "29H-123.45",
        "trailer_plate": "29R-012.34",
        "containers": ["CSQU3054383"],
        "cargo": {"description": "dragon fruit", "hs_codes": ["0810.90"], "gross_weight_kg": 18500},
        "perishable": True,
        "customs_status": "cleared",
        "window_start": "2026-11-23T06:00:00+07:00",
        "window_end": "2026-11-23T18:00:00+07:00",
    }
    form.update(fields)
    return {k: v for k, v in form.items() if v is not None or k == "trailer_plate"}


async def publish_to(bootstrap: str, topic: str, *messages: tuple[str, bytes]) -> None:
    """Send (key, value) pairs to `topic`, each acknowledged."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic, value=value, key=key.encode())
    finally:
        await producer.stop()


async def send_weighings(
    bootstrap: str, sessions: async_sessionmaker[AsyncSession], weighings: Sequence[Any]
) -> None:
    """Send weigh-in-motion records (`WeighInMotionV1`) to their topic, keyed by station,
    and wait until the weighing intake running on `sessions` has stored them all."""
    await publish_to(
        bootstrap,
        WEIGH_IN_MOTION.name,
        *((w.station_id, w.model_dump_json().encode()) for w in weighings),
    )

    async def stored() -> bool:
        async with sessions() as session:
            n = await session.scalar(select(func.count()).select_from(WeighingRow))
        return (n or 0) >= len({w.event_id for w in weighings})

    await wait_until(stored, timeout=60)


@dataclass
class RunningIntake:
    infra: Infrastructure
    intake: ManifestIntake
    runtime: ConsumerRuntime[ManifestV1]


@contextlib.asynccontextmanager
async def running_manifest_intake(settings: Settings) -> AsyncIterator[RunningIntake]:
    """The manifest intake worker alone (no decider), consuming `borderflow.manifests`."""
    async with infrastructure(settings) as infra:
        intake, runtime = build_manifest_intake(infra)
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop))
        try:
            await asyncio.wait_for(runtime.ready.wait(), timeout=20)
            yield RunningIntake(infra, intake, runtime)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=20)


async def staff_cookies(infra: Infrastructure, username: str = "viewer-1") -> dict[str, str]:
    """A control-room session cookie (a viewer's): what `/v1/queue` and `/v1/review` need."""
    return await staff_cookies_on(infra.sessions, username)


async def staff_cookies_on(
    sessions: async_sessionmaker[AsyncSession], username: str = "viewer-1"
) -> dict[str, str]:
    """`staff_cookies` on a database's sessions alone (no running system)."""
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        await create_controller(
            session=session, username=username, role="viewer", password="x" * 12, now=now
        )
        token, _ = await open_session(
            session=session, username=username, now=now, ttl=timedelta(hours=1)
        )
    return {COOKIE: token}
