"""The traffic simulator behind `borderflow simulate-traffic` and the demo.

Planning is pure and deterministic (`plan_traffic`, in `services.simulation`); this module
adds the two effects: manifests into the database and plate reads onto Kafka, each read at
its scaled time. A share of the reads goes out as plain JSON, the way a third-party camera
gateway publishes; the rest in borderflow's envelope.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.alerts import ManifestVersion
from lanes.filing import StoreResult
from lanes.model import Manifest
from services.archive.records import ArchivedRecord, identify
from services.db.manifests import store_manifests
from services.service_layer.manifests import tally
from services.simulation.anomalies import DEMO_ANOMALY_RATE, KINDS, AnomalySpec
from services.simulation.containers import check_digit, is_valid_container
from services.simulation.plan import SimulatedTruck, TrafficPlan, plan_summary, plan_traffic
from streams.codec import encode, encode_enveloped
from streams.events import PLATE_READ_TYPE, PlateReadV1
from streams.topics import PLATE_READS, WEIGH_IN_MOTION
from streams.weigh import WeighInMotionV1

__all__ = [
    "DEMO_ANOMALY_RATE",
    "PRODUCER_NAME",
    "SimulatedTruck",
    "TrafficPlan",
    "check_digit",
    "demo_anomalies",
    "is_plain",
    "is_valid_container",
    "plan_summary",
    "plan_traffic",
    "publish_reads",
    "publish_weighings",
    "seed_manifest_versions",
    "seed_manifests",
]

log = logging.getLogger(__name__)

PRODUCER_NAME = "borderflow.simulator"
DELIVERY_BATCH = 500  # sends in flight before we wait for their delivery reports
YIELD_EVERY = 50  # unpaced sends between two turns given to the other tasks
MAX_NAP_S = 0.25  # the longest sleep between two looks at `stop`
EARLY_S = 0.001  # a read this close to its time goes now (and float rounding cannot spin)
# Manifests seeded a transaction. On SQLite the seeding holds the one write lock while it
# stores: a whole day at once (6,000 manifests) held it 61 s on a loaded 2-core VM, past the
# 30 s every other writer waits ("database is locked" in the workers and the API).
SEED_CHUNK = 500


async def seed_manifests(
    sessions: async_sessionmaker[AsyncSession], manifests: Sequence[Manifest], *, now: datetime
) -> None:
    """Store `manifests` through the intake (source "simulator": versions and plate keys
    like any other), `SEED_CHUNK` a transaction."""
    results: list[StoreResult] = []
    for chunk in _chunks(manifests):
        async with sessions() as session, session.begin():
            results += await store_manifests(
                session=session, manifests=chunk, source="simulator", now=now
            )
    counts = tally(results)
    if counts["refused"]:
        log.warning("%d simulated manifest(s) refused: their ids are taken", counts["refused"])
    log.info(
        "seeded manifests",
        extra={"manifests": len(manifests), **{f"manifests_{k}": n for k, n in counts.items()}},
    )


def _chunks(manifests: Sequence[Manifest]) -> Iterator[Sequence[Manifest]]:
    for i in range(0, len(manifests), SEED_CHUNK):
        yield manifests[i : i + SEED_CHUNK]


MIN_TRUCKS_FOR_ANOMALIES = 50  # fewer: too few trucks with containers to pick from


def demo_anomalies(trucks: int, rate: float) -> AnomalySpec | None:
    """The anomalies of a demo day of `trucks` trucks: a share `rate` of them, spread over
    every kind (at least one of each); None (an ordinary day) for `rate` 0 or a small day."""
    if rate < 0 or rate > 1 or math.isnan(rate):
        raise ValueError(f"anomaly rate must be in [0, 1], got {rate}")
    if rate == 0 or trucks < MIN_TRUCKS_FOR_ANOMALIES:
        return None
    return AnomalySpec(per_kind=max(1, round(trucks * rate / len(KINDS))))


async def seed_manifest_versions(
    sessions: async_sessionmaker[AsyncSession], versions: Sequence[ManifestVersion]
) -> None:
    """Store an anomalous day's manifest versions through the intake: every first version
    at the earliest first version's time (`SEED_CHUNK` a transaction: one each would hold
    up the demo's start; a first version earlier than simulated changes no rule), then
    each later version at its own received time, in one transaction (so a late amendment
    is late: lanes.alerts reads a version from its `received_at`, kept as the version's
    `clock_at`: the simulated day's clock, not the reads decided so far)."""
    firsts = [v for v in versions if v.version == 1]
    later = sorted((v for v in versions if v.version > 1), key=lambda v: (v.received_at, v.version))
    if not firsts:
        return
    at = min(v.received_at for v in firsts)
    results: list[StoreResult] = []
    for chunk in _chunks([v.manifest for v in firsts]):
        async with sessions() as session, session.begin():
            results += await store_manifests(
                session=session, manifests=chunk, source="simulator", now=at, clock_at=at
            )
    async with sessions() as session, session.begin():
        for v in later:
            results += await store_manifests(
                session=session,
                manifests=[v.manifest],
                source="simulator",
                now=v.received_at,
                clock_at=v.received_at,
            )
    counts = tally(results)
    log.info(
        "seeded manifest versions",
        extra={"versions": len(versions), **{f"manifests_{k}": n for k, n in counts.items()}},
    )


async def publish_weighings(
    producer: AIOKafkaProducer, weighings: Sequence[WeighInMotionV1]
) -> int:
    """Publish `weighings` on borderflow.weigh-in-motion (keyed by station, each
    acknowledged, at once: the rules read them by event time)."""
    pending = [
        await producer.send(
            WEIGH_IN_MOTION.name,
            value=w.model_dump_json().encode(),
            key=w.station_id.encode(),
            timestamp_ms=int(w.captured_at.timestamp() * 1000),
        )
        for w in weighings
    ]
    await _delivered(pending)
    return len(weighings)


def is_plain(event_id: str, plain_share: float) -> bool:
    """Whether the read `event_id` goes out as plain JSON: a stable hash, not a coin toss."""
    digest = hashlib.blake2b(event_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < plain_share


def _message(read: PlateReadV1, plain_share: float) -> tuple[bytes, list[tuple[str, bytes]]]:
    if is_plain(read.event_id, plain_share):
        return encode(read), []
    return encode_enveloped(
        read,
        event_id=read.event_id,
        type_=PLATE_READ_TYPE,
        occurred_at=read.captured_at,
        producer=PRODUCER_NAME,
    )


async def publish_reads(
    producer: AIOKafkaProducer,
    reads: Sequence[PlateReadV1],
    *,
    topic: str = PLATE_READS.name,
    speedup: float,
    sim_start: datetime,
    stop: asyncio.Event | None = None,
    plain_share: float = 0.3,
    on_sent: Callable[[int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> int:
    """Publish `reads` (in order) keyed by camera, each `(captured_at - sim_start) / speedup`
    seconds after the call; `speedup` 0 or inf sends as fast as the producer takes them.

    Deliveries are awaited every `DELIVERY_BATCH` sends and at the end (a failed delivery
    raises). Stops early once `stop` is set. `on_sent` gets the running count after each
    send. Returns the number of reads sent."""
    if math.isnan(speedup) or speedup < 0:
        raise ValueError(f"speedup must be >= 0 (0 or inf: no pacing), got {speedup}")
    paced = 0 < speedup < math.inf
    started = clock()
    pending: list[asyncio.Future[Any]] = []
    sent = 0
    for read in reads:
        if paced:
            due = (read.captured_at - sim_start).total_seconds() / speedup
            while (delay := due - (clock() - started)) > EARLY_S and not _is_set(stop):
                await sleep(min(delay, MAX_NAP_S))
        if _is_set(stop):
            break
        value, headers = _message(read, plain_share)
        pending.append(
            await producer.send(
                topic,
                value=value,
                key=read.camera_id.encode(),
                headers=headers,
                # the simulated camera sends at its own (simulated) time, as a real one does
                timestamp_ms=int(read.captured_at.timestamp() * 1000),
            )
        )
        sent += 1
        if on_sent is not None:
            on_sent(sent)
        if not paced and sent % YIELD_EVERY == 0:
            # a send with room in the buffer never suspends: unpaced, this loop held the
            # event loop for seconds on a loaded machine (`up --speedup 0`: heartbeats, the
            # broker watch and Ctrl-C waited on it)
            await asyncio.sleep(0)
        if len(pending) >= DELIVERY_BATCH:
            await _delivered(pending)
    await _delivered(pending)
    log.info("published plate reads", extra={"sent": sent, "planned": len(reads), "topic": topic})
    return sent


def _is_set(stop: asyncio.Event | None) -> bool:
    return stop is not None and stop.is_set()


async def _delivered(pending: list[asyncio.Future[Any]]) -> None:
    if pending:
        await asyncio.gather(*pending)
        pending.clear()


def archived_reads(
    reads: Sequence[PlateReadV1], *, plain_share: float = 0.3
) -> list[ArchivedRecord]:
    """`reads` as the archive would hold them had they been published (their wire bytes,
    headers and event time; offsets in order): a recording without a live run, for the
    replay bench and tests."""
    out = []
    for offset, read in enumerate(reads):
        value, headers = _message(read, plain_share)
        event_id, at = identify(value)
        out.append(
            ArchivedRecord(
                topic=PLATE_READS.name,
                partition=offset % PLATE_READS.partitions,
                offset=offset,
                timestamp_ms=int(read.captured_at.timestamp() * 1000),
                key=read.camera_id.encode(),
                value=value,
                headers=tuple(headers),
                event_id=event_id,
                event_time=at or read.captured_at,
            )
        )
    return out
