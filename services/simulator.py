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
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.model import Manifest
from services.archive.records import ArchivedRecord, identify
from services.db.manifests import store_manifests
from services.manifest_intake import tally
from services.simulation.containers import check_digit, is_valid_container
from services.simulation.plan import SimulatedTruck, TrafficPlan, plan_summary, plan_traffic
from streams.codec import encode, encode_enveloped
from streams.events import PLATE_READ_TYPE, PlateReadV1
from streams.topics import PLATE_READS

__all__ = [
    "PRODUCER_NAME",
    "SimulatedTruck",
    "TrafficPlan",
    "check_digit",
    "is_plain",
    "is_valid_container",
    "plan_summary",
    "plan_traffic",
    "publish_reads",
    "seed_manifests",
]

log = logging.getLogger(__name__)

PRODUCER_NAME = "borderflow.simulator"
DELIVERY_BATCH = 500  # sends in flight before we wait for their delivery reports
MAX_NAP_S = 0.25  # the longest sleep between two looks at `stop`
EARLY_S = 0.001  # a read this close to its time goes now (and float rounding cannot spin)


async def seed_manifests(
    sessions: async_sessionmaker[AsyncSession], manifests: Sequence[Manifest], *, now: datetime
) -> None:
    """Store `manifests` through the intake (source "simulator": versions and plate keys
    like any other), in one transaction, 500 per statement."""
    async with sessions() as session, session.begin():
        results = await store_manifests(
            session=session, manifests=manifests, source="simulator", now=now
        )
    counts = tally(results)
    if counts["refused"]:
        log.warning("%d simulated manifest(s) refused: their ids are taken", counts["refused"])
    log.info(
        "seeded manifests",
        extra={"manifests": len(manifests), **{f"manifests_{k}": n for k, n in counts.items()}},
    )


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
