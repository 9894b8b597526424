"""The sandbox: a throw-away SQLite database and a recording producer, around the live
`Decider` and `LaneEventHandler` (the same code, not a copy: only the adapters differ). The
recorded batches are handled in their recorded order; before each batch, the manifest
versions it saw live (`seq` up to its recorded `manifest_seq`) enter the sandbox; the
decisions "published" are collected."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from aiokafka import AIOKafkaProducer, ConsumerRecord
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lanes.matching import OcrMatcher
from lanes.model import Gate
from lanes.policy import Policy
from services.archive.records import ArchivedRecord
from services.bootstrap import open_database
from services.config import DatabaseSettings
from services.db.booking_tables import BookingEventRow, BookingRow
from services.db.manifests import store_manifests
from services.replay.inputs import (
    DECIDER,
    BookingChange,
    InputBatch,
    ManifestVersion,
    ReplayInputs,
)
from services.workers.decider import Decider
from services.workers.orchestrator import LaneEventHandler
from services.workers.weighings import WeighingIntake
from streams.errors import InvalidEvent
from streams.runtime import Inbound
from streams.topics import ALERTS, LANE_DECISIONS
from streams.weigh import WeighInMotionV1

Progress = Callable[[int, int], None]


@dataclass
class RecordingProducer:
    """Stands in for the Kafka producer: keeps what would have been sent, in order."""

    sent: list[tuple[str, bytes | None, bytes]] = field(default_factory=list)

    async def send(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[None]:
        self.sent.append((topic, key, value))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts raised (issue 22), in the order they were published."""
        return [
            dict(json.loads(value)["data"])
            for topic, _, value in self.sent
            if topic == ALERTS.name and json.loads(value)["data"]["change"] == "raised"
        ]

    def decisions(self) -> list[dict[str, Any]]:
        return [
            dict(json.loads(value)["data"])
            for topic, _, value in self.sent
            if topic == LANE_DECISIONS.name
        ]


@dataclass(frozen=True, slots=True)
class SandboxResult:
    decisions: tuple[dict[str, Any], ...]  # in the order they were published
    dead_letters: int  # records the live decode would have dead-lettered, skipped
    batches: int
    alerts: tuple[dict[str, Any], ...] = ()  # the risk alerts raised (issue 22), in order


def consumer_record(record: ArchivedRecord) -> ConsumerRecord:
    return ConsumerRecord(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp=record.timestamp_ms,
        timestamp_type=0,
        key=record.key,
        value=record.value,
        checksum=None,
        serialized_key_size=len(record.key or b""),
        serialized_value_size=len(record.value or b""),
        headers=list(record.headers),
    )


def _fast_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=MEMORY")
    cursor.execute("PRAGMA synchronous=OFF")  # a sandbox: nothing to keep after a crash
    cursor.close()


async def run_sandbox(
    inputs: ReplayInputs,
    *,
    gates: Mapping[str, Gate],
    policy: Policy,
    workdir: Path | None = None,
    progress: Progress | None = None,
    weighings: Sequence[WeighInMotionV1] = (),
) -> SandboxResult:
    """Replay `inputs` under `gates` and `policy` in a fresh sandbox database; the
    weigh-in-motion measures `weighings` are all known from the start (see docs/alerts.md)."""
    with tempfile.TemporaryDirectory(prefix="borderflow-replay-", dir=workdir) as tmp:
        database = DatabaseSettings(url=f"sqlite+aiosqlite:///{Path(tmp) / 'sb.db'}")
        async with open_database(database, gates=gates, on_connect=_fast_sqlite) as sessions:
            await _store_weighings(sessions, weighings)
            return await _replay(
                inputs, engine_sessions=sessions, gates=gates, policy=policy, progress=progress
            )


async def _replay(
    inputs: ReplayInputs,
    *,
    engine_sessions: Any,
    gates: Mapping[str, Gate],
    policy: Policy,
    progress: Progress | None,
) -> SandboxResult:
    producer = RecordingProducer()
    kafka = cast(AIOKafkaProducer, producer)  # the outbox only calls send()
    decider = Decider.on_database(
        sessions=engine_sessions, producer=kafka, gates=gates, matcher=OcrMatcher(), policy=policy
    )
    handler = LaneEventHandler.on_database(
        sessions=engine_sessions, producer=kafka, gates=gates, policy=policy, group_id="replay"
    )
    manifests = list(inputs.manifests)
    bookings = list(inputs.bookings)
    skipped = 0
    for done, batch in enumerate(inputs.batches, start=1):
        manifests = await _store_due(engine_sessions, manifests, through=batch.manifest_seq)
        bookings = await _book_due(engine_sessions, bookings, through=batch.booking_seq)
        skipped += await _handle(batch, decider, handler)
        if progress is not None:
            progress(done, len(inputs.batches))
    await decider.publish_outbox()
    await handler.outbox.drain()
    await decider.alert_outbox.drain()
    return SandboxResult(
        tuple(producer.decisions()), skipped, len(inputs.batches), tuple(producer.alerts())
    )


async def _store_weighings(sessions: Any, weighings: Sequence[WeighInMotionV1]) -> None:
    if not weighings:
        return
    intake = WeighingIntake(sessions=sessions, gate_ids={w.gate_id for w in weighings})
    await intake.handle([Inbound("replay", 0, n, None, w) for n, w in enumerate(weighings)])


async def _store_due(
    sessions: Any, pending: list[ManifestVersion], *, through: int | None
) -> list[ManifestVersion]:
    """Store the pending versions (in `seq` order) up to `seq` `through` (all of them when
    None); the rest wait, and those no batch saw are never stored."""
    count = 0
    while count < len(pending) and (through is None or pending[count].seq <= through):
        count += 1
    due = pending[:count]
    if not due:
        return pending
    async with sessions() as session, session.begin():
        start = 0
        while start < len(due):  # one call per recording time, as they were stored
            at = due[start].recorded_at
            end = start
            while end < len(due) and due[end].recorded_at == at:
                end += 1
            await store_manifests(
                session=session,
                manifests=[v.manifest for v in due[start:end]],
                source=due[start].source,
                now=at,
            )
            start = end
    return pending[len(due) :]


async def _book_due(
    sessions: Any, pending: list[BookingChange], *, through: int | None
) -> list[BookingChange]:
    """Apply the firms' booking changes up to `seq` `through` (all when None), as the live
    batch saw them: each leaves the booking as its event describes it."""
    count = 0
    while count < len(pending) and (through is None or pending[count].seq <= through):
        count += 1
    if not count:
        return pending
    async with sessions() as session, session.begin():
        for change in pending[:count]:
            p = change.payload
            row = {
                "booking_id": p["booking_id"],
                "firm_id": p["firm_id"],
                "manifest_id": p["manifest_id"],
                "gate_id": p["gate_id"],
                "direction": p["direction"],
                "slot_start": datetime.fromisoformat(p["slot_start"]),
                "slot_end": datetime.fromisoformat(p["slot_end"]),
                "perishable": bool(p["perishable"]),
                "status": p["status"],
                "version": int(p["version"]),
                "created_at": change.occurred_at,
                "updated_at": change.occurred_at,
            }
            changed = {k: v for k, v in row.items() if k not in {"booking_id", "created_at"}}
            await session.execute(
                sqlite_insert(BookingRow)
                .values(**row)
                .on_conflict_do_update(index_elements=["booking_id"], set_=changed)
            )
            if change.event_id:  # the firm's change as an event too: the alert rules read them
                await session.execute(
                    sqlite_insert(BookingEventRow)
                    .values(
                        event_id=change.event_id,
                        booking_id=p["booking_id"],
                        type=change.type,
                        payload=p,
                        occurred_at=change.occurred_at,
                        published_at=change.occurred_at,
                        seq=None,  # the sandbox numbers its own (the decider's no-shows)
                    )
                    .on_conflict_do_nothing(index_elements=["event_id"])
                )
    return pending[count:]


async def _handle(batch: InputBatch, decider: Decider, handler: LaneEventHandler) -> int:
    """Decode as the live consumer does (a record it dead-lettered is skipped) and handle."""
    decode: Callable[[ConsumerRecord], Any] = (
        decider.decode if batch.worker == DECIDER else handler.decode
    )
    items: list[Inbound[Any]] = []
    for record in batch.records:
        try:
            decoded = decode(consumer_record(record))
        except InvalidEvent:
            continue
        items.append(Inbound(record.topic, record.partition, record.offset, record.key, decoded))
    if items:
        await (decider.handle(items) if batch.worker == DECIDER else handler.handle(items))
    return len(batch.records) - len(items)
