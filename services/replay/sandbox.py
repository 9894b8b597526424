"""The sandbox: the live `Decider` and `LaneEventHandler` (the same code, not a copy: only
the adapters differ) on the gate's state in memory (or, on request, in a throw-away SQLite
database) and a recording producer. The recorded batches are handled in their recorded
order; before each batch, the manifest versions it saw live (`seq` up to its recorded
`manifest_seq`) and the firms' booking changes enter the sandbox; the decisions
"published" are collected."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from aiokafka import AIOKafkaProducer, ConsumerRecord
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lanes.model import Gate
from lanes.policy import Policy
from lanes.policy.callforward import CalledPlace
from services.adapters.memory_gate import MemoryGateData
from services.adapters.sql_gate import sql_gate_stores
from services.archive.records import ArchivedRecord
from services.bootstrap import (
    make_decider,
    make_lane_event_handler,
    make_weighing_intake,
    open_database,
)
from services.db.booking_tables import BookingEventRow, BookingRow
from services.db.called import replace_called
from services.db.manifests import store_manifests
from services.ports import GateStores
from services.replay.inputs import (
    DECIDER,
    BookingChange,
    InputBatch,
    ManifestVersion,
    ReplayInputs,
)
from services.runtime.settings import DatabaseSettings
from services.workers.decider import ClockWindow, Decider
from services.workers.orchestrator import LaneEventHandler
from streams.errors import InvalidEvent
from streams.runtime import Inbound
from streams.topics import ALERTS, LANE_DECISIONS
from streams.weigh import WeighInMotionV1

Progress = Callable[[int, int], None]
Seq = TypeVar("Seq", ManifestVersion, BookingChange)


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
    database: bool = False,
    keep: timedelta | None = None,
    clock_window: ClockWindow | None = None,
) -> SandboxResult:
    """Replay `inputs` under `gates` and `policy`: in memory (the gate's state in
    `MemoryGateData`), or with `database` in a fresh SQLite sandbox database (in `workdir`):
    the same decisions, byte for byte. The weigh-in-motion measures `weighings` are all
    known from the start (see docs/alerts.md). `keep` (in memory only; e.g. `KEEP`): drop
    the reads and visits older than that before the alert window, for long replays; a read
    arriving later than that behind the gate's clock then stops the replay (`DroppedState`)
    instead of being decided on less than the live worker had, so it is off by default.
    `clock_window`: the live decider's door for plate reads (BORDERFLOW_READS_MAX_AHEAD_S /
    _BEHIND_S; None: the defaults), so that a read it took is taken again."""
    if not database:
        data = MemoryGateData(keep=keep)
        for weighing in weighings:
            data.add_weighing(weighing)
        return await _replay(
            inputs,
            stores=data.stores(),
            feed=MemoryFeed(data),
            gates=gates,
            policy=policy,
            progress=progress,
            incremental=True,
            clock_window=clock_window,
        )
    with tempfile.TemporaryDirectory(prefix="borderflow-replay-", dir=workdir) as tmp:
        database_settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{Path(tmp) / 'sb.db'}")
        async with open_database(
            database_settings, gates=gates, on_connect=_fast_sqlite
        ) as sessions:
            await _store_weighings(sessions, weighings)
            return await _replay(
                inputs,
                stores=sql_gate_stores(sessions),
                feed=DatabaseFeed(sessions),
                gates=gates,
                policy=policy,
                progress=progress,
                clock_window=clock_window,
            )


class Feed(Protocol):
    """Puts the recorded manifest versions and the firms' booking changes into the
    sandbox's state, as the live batch saw them."""

    async def manifests(self, due: Sequence[ManifestVersion]) -> None: ...

    async def bookings(self, due: Sequence[BookingChange]) -> None: ...

    async def calls(self, calls: Mapping[str, Sequence[CalledPlace]]) -> None:
        """The calls the recorded batch was told of (issue 23), in place of any before."""


async def _replay(
    inputs: ReplayInputs,
    *,
    stores: GateStores,
    feed: Feed,
    gates: Mapping[str, Gate],
    policy: Policy,
    progress: Progress | None,
    incremental: bool = False,
    clock_window: ClockWindow | None = None,
) -> SandboxResult:
    producer = RecordingProducer()
    kafka = cast(AIOKafkaProducer, producer)  # the outbox only calls send()
    # the memory adapter keeps every alert: the rules may judge only what changed
    decider = make_decider(
        stores=stores,
        producer=kafka,
        gates=gates,
        policy=policy,
        incremental_alerts=incremental,
        clock_window=clock_window,
    )
    handler = make_lane_event_handler(
        stores=stores, producer=kafka, gates=gates, policy=policy, group_id="replay"
    )
    manifests = list(inputs.manifests)
    bookings = list(inputs.bookings)
    skipped = 0
    for done, batch in enumerate(inputs.batches, start=1):
        due, manifests = _due(manifests, through=batch.manifest_seq)
        if due:
            await feed.manifests(due)
        changes, bookings = _due(bookings, through=batch.booking_seq)
        if changes:
            await feed.bookings(changes)
        await feed.calls(batch.calls)
        skipped += await _handle(batch, decider, handler)
        if progress is not None:
            progress(done, len(inputs.batches))
    await decider.publish_outbox()
    await handler.outbox.drain()
    await decider.alert_outbox.drain()
    return SandboxResult(
        tuple(producer.decisions()), skipped, len(inputs.batches), tuple(producer.alerts())
    )


def _due(pending: list[Seq], *, through: int | None) -> tuple[list[Seq], list[Seq]]:
    """The pending changes (in `seq` order) up to `seq` `through` (all of them when None),
    and the rest, which wait (those no batch saw are never applied)."""
    count = 0
    while count < len(pending) and (through is None or pending[count].seq <= through):
        count += 1
    return pending[:count], pending[count:]


class MemoryFeed:
    def __init__(self, data: MemoryGateData) -> None:
        self.data = data

    async def calls(self, calls: Mapping[str, Sequence[CalledPlace]]) -> None:
        self.data.called = {gate_id: list(places) for gate_id, places in calls.items()}

    async def manifests(self, due: Sequence[ManifestVersion]) -> None:
        for version in due:
            self.data.store_manifests(
                [version.manifest], now=version.recorded_at, clock_at=version.clock_at
            )

    async def bookings(self, due: Sequence[BookingChange]) -> None:
        for change in due:
            self.data.apply_booking(
                change.payload,
                occurred_at=change.occurred_at,
                event_id=change.event_id or None,
                type_=change.type,
            )


async def _store_weighings(sessions: Any, weighings: Sequence[WeighInMotionV1]) -> None:
    if not weighings:
        return
    intake = make_weighing_intake(sessions=sessions, gate_ids={w.gate_id for w in weighings})
    await intake.handle([Inbound("replay", 0, n, None, w) for n, w in enumerate(weighings)])


_SANDBOX_TIME = datetime(2000, 1, 1, tzinfo=UTC)  # `updated_at` of the sandbox's calls


class DatabaseFeed:
    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions
        self._calls: Mapping[str, Sequence[CalledPlace]] = {}

    async def calls(self, calls: Mapping[str, Sequence[CalledPlace]]) -> None:
        if calls == self._calls:
            return  # most batches: none, as before
        async with self.sessions() as session, session.begin():
            # the recorded batch's own wall clock is not known here; nothing compares it
            await replace_called(session=session, calls=calls, now=_SANDBOX_TIME)
        self._calls = calls

    async def manifests(self, due: Sequence[ManifestVersion]) -> None:
        async with self.sessions() as session, session.begin():
            # one call per recording (its wall and events' times), as they were stored
            for (at, clock_at), run in groupby(due, key=lambda v: (v.recorded_at, v.clock_at)):
                versions = list(run)
                await store_manifests(
                    session=session,
                    manifests=[v.manifest for v in versions],
                    source=versions[0].source,
                    now=at,
                    clock_at=clock_at,
                )

    async def bookings(self, due: Sequence[BookingChange]) -> None:
        """Each change leaves the booking as its event describes it."""
        async with self.sessions() as session, session.begin():
            for change in due:
                await _book(session, change)


async def _book(session: Any, change: BookingChange) -> None:
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
        if batch.worker == DECIDER:
            await decider.handle(items, watermark=batch.watermark)
        else:
            await handler.handle(items)
    return len(batch.records) - len(items)
