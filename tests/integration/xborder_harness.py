"""Two sides of one gate for the exchange's tests: each its own embedded broker, database
and link worker (in this process), and a small simulated day of crossings."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lanes.containers import check_digit
from lanes.crossings import Side
from lanes.model import Gate
from services.api.app import ApiContext, create_app
from services.bootstrap import prepare_database
from services.db.engine import create_engine, session_factory
from services.gates.loader import default_gates
from services.runtime.settings import DatabaseSettings, KafkaSettings
from services.xborder import store as xstore
from services.xborder.config import OUTBOUND_TOPIC, XborderSettings
from services.xborder.corridor import GateCorridor
from services.xborder.link import Link
from services.xborder.tables import XborderInboxRow, XborderOutboxRow
from streams.broker import EmbeddedBroker
from streams.clients import make_producer
from streams.xborder_local import LocalCrossingEventV1
from streams.xborder_sign import SigningKey, TrustedKeys
from tests.integration.harness import staff_cookies_on

DAY = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
GATES = {Side.VN: "huu-nghi", Side.CN: "youyiguan"}


def fast_kafka(bootstrap: str) -> KafkaSettings:
    return KafkaSettings(
        bootstrap=bootstrap,
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
        fetch_max_wait_ms=20,
        request_timeout_s=5,
        commit_timeout_s=5,
    )


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout_s: float = 60, what: str = "condition"
) -> None:
    """Poll `check` until it holds (no fixed sleep decides anything)."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass
class GateSide:
    side: Side
    broker: EmbeddedBroker
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    key: SigningKey
    tmp: Path
    producer: AIOKafkaProducer | None = None
    link: Link | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    def settings(self, peer: GateSide) -> XborderSettings:
        return XborderSettings(
            side=self.side,
            peer_bootstrap=peer.bootstrap,
            signing_key_id=self.key.key_id,
            signing_key=self.key.private_base64(),  # type: ignore[arg-type]
            trusted_keys=json.dumps({peer.key.key_id: peer.key.public_base64()}),
            poll_s=0.05,
            send_batch=200,
            # short, so that resends happen in the tests (acks late under load, lost in
            # the cut): each must be acknowledged again, never refused as a replay
            resend_after_s=1.0,
        )

    async def ensure_producer(self) -> AIOKafkaProducer:
        if self.producer is None:
            self.producer = make_producer(fast_kafka(self.bootstrap), self.bootstrap)
            await self.producer.start()
        return self.producer

    async def start_link(
        self,
        peer: GateSide,
        *,
        trusted: TrustedKeys | None = None,
        corridors: Mapping[str, GateCorridor] | None = None,
        gates: Mapping[str, Gate] | None = None,
    ) -> Link:
        kafka = fast_kafka(self.bootstrap)
        await self.ensure_producer()
        self.stop = asyncio.Event()
        self.link = Link(
            settings=self.settings(peer),
            kafka=kafka,
            bootstrap=self.bootstrap,
            sessions=self.sessions,
            producer=self.producer,
            trusted=trusted,
            corridors=corridors,
            gates=gates,
        )
        self.task = asyncio.create_task(self.link.run(self.stop))
        await eventually(self._ready, what=f"{self.side} link consumers assigned")
        return self.link

    async def _ready(self) -> bool:
        assert self.link is not None and self.task is not None
        if self.task.done():
            self.task.result()
        facts = self.link.facts is None or self.link.facts.ready.is_set()
        return self.link.outbound.ready.is_set() and self.link.inbound.ready.is_set() and facts

    async def stop_link(self) -> None:
        self.stop.set()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self.task, timeout=30)
        self.task = None

    async def publish(self, events: list[LocalCrossingEventV1]) -> None:
        producer = await self.ensure_producer()
        for event in events:
            await producer.send(
                OUTBOUND_TOPIC,
                value=event.model_dump_json().encode(),
                key=(event.crossing_id or event.event_id).encode(),
            )
        await producer.flush()

    async def taken(self, events: list[LocalCrossingEventV1]) -> bool:
        """Every one of `events` is in the outbox (the link took it)."""
        ids = [e.event_id for e in events]
        return await self.count(XborderOutboxRow, XborderOutboxRow.source_event_id.in_(ids)) == len(
            ids
        )

    async def count(self, row: Any, *where: Any) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(row).where(*where)))

    async def outbox_count(self) -> int:
        return await self.count(XborderOutboxRow)

    async def inbox_count(self) -> int:
        return await self.count(XborderInboxRow)

    async def crossings(self) -> list[Any]:
        async with self.sessions() as session:
            return await xstore.all_crossings(session)

    async def state(self) -> xstore.LinkState:
        async with self.sessions() as session:
            return await xstore.link_state(session, me=self.side)


@contextlib.asynccontextmanager
async def gate_side(side: Side, database: DatabaseSettings, tmp: Path) -> AsyncIterator[GateSide]:
    broker = EmbeddedBroker(log_path=tmp / f"tansu-{side.value}.log")
    await broker.start()
    engine = create_engine(database)
    await prepare_database(engine, default_gates())
    one = GateSide(side, broker, engine, session_factory(engine), _key(side), tmp)
    try:
        yield one
    finally:
        await one.stop_link()
        if one.producer is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(10):
                    await one.producer.stop()
        await engine.dispose()
        await one.broker.stop()


_KEYS: dict[Side, SigningKey] = {}


def _key(side: Side) -> SigningKey:
    if side not in _KEYS:
        _KEYS[side] = SigningKey.generate(f"{side.value.lower()}-2026-01", side)
    return _KEYS[side]


async def restart_broker(one: GateSide) -> None:
    """The same port, started again (the embedded broker comes back empty)."""
    port = int(one.broker.bootstrap.rsplit(":", 1)[1])
    one.broker = EmbeddedBroker(port=port, log_path=one.tmp / f"tansu-{one.side.value}-2.log")
    await one.broker.start()


# --- the simulated day --------------------------------------------------------------------


def container(prefix: str, n: int) -> str:
    first = f"{prefix}U{n:06d}"
    return f"{first}{check_digit(first)}"


def plate(side: Side, n: int) -> tuple[str, str]:
    if side is Side.VN:
        return f"29H{10000 + n:05d}", f"29R{10000 + n:05d}"
    return f"桂A{20000 + n:05d}", f"桂A{3000 + n:04d}挂"


def departures(side: Side, n: int, *, start: datetime) -> list[LocalCrossingEventV1]:
    """Notice and exit of `n` trucks leaving `side`, one every 6 minutes from `start`."""
    events = []
    for i in range(n):
        at = start + timedelta(minutes=6 * i)
        tractor, trailer = plate(side, i)
        common: dict[str, Any] = {
            "crossing_id": f"{side.value}-x{i:04d}",
            "gate_id": GATES[side],
            "peer_gate_id": GATES[side.other],
            "direction": "export" if side is Side.VN else "import",
            "tractor_plate": tractor,
            "trailer_plate": trailer,
            "containers": [container("CSQ" if side is Side.VN else "TGH", i)],
            "firm_id": f"firm-{i % 7}",
            "notes": "stays here",
        }
        events.append(
            LocalCrossingEventV1(
                event_id=f"{side.value}-n{i:04d}",
                kind="notice",
                at=at - timedelta(minutes=30),
                cargo_classes=["container"],  # type: ignore[list-item]
                perishable=i % 3 == 0,
                booked_slot_start=at + timedelta(minutes=30),
                booked_slot_end=at + timedelta(minutes=90),
                **common,
            )
        )
        events.append(
            LocalCrossingEventV1(
                event_id=f"{side.value}-e{i:04d}",
                kind="exit",
                at=at,
                mode="road" if i % 4 else "autonomous_carrier",  # type: ignore[arg-type]
                **common,
            )
        )
    return events


def arrivals(
    arriving_at: Side, n: int, *, start: datetime, skip: set[int], other_trailer: set[int]
) -> list[LocalCrossingEventV1]:
    """Entries at `arriving_at` of the trucks the other side sent, matched by plate (no
    crossing id): all but `skip`; those in `other_trailer` with another trailer."""
    origin = arriving_at.other
    events = []
    for i in range(n):
        if i in skip:
            continue
        tractor, trailer = plate(origin, i)
        if i in other_trailer:
            trailer = plate(origin, i + 500)[1]
        events.append(
            LocalCrossingEventV1(
                event_id=f"{arriving_at.value}-in{i:04d}",
                kind="entry",
                at=start + timedelta(minutes=6 * i + 25),
                gate_id=GATES[arriving_at],
                tractor_plate=tractor,
                trailer_plate=trailer,
                containers=[container("CSQ" if origin is Side.VN else "TGH", i)],
                controller_id="ctl-9",
            )
        )
    return events


async def dead_letters(
    bootstrap: str, topic: str, *, expect: int, skip: frozenset[str] = frozenset()
) -> list[dict[str, str]]:
    """The `dlq.*` headers of the first `expect` records of a dead-letter topic, leaving out
    those whose `dlq.error.type` is in `skip`."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[dict[str, str]] = []
    try:
        async with asyncio.timeout(60):
            while len(found) < expect:
                batches = await consumer.getmany(timeout_ms=200)
                for records in batches.values():
                    found += [
                        headers
                        for r in records
                        if (
                            headers := {
                                k: v.decode() for k, v in (r.headers or ()) if k.startswith("dlq.")
                            }
                        ).get("dlq.error.type")
                        not in skip
                    ]
    finally:
        await consumer.stop()
    return found


async def control_room_state(
    sessions: async_sessionmaker[AsyncSession], *, gate: str = "huu-nghi"
) -> dict[str, Any]:
    """`GET /v1/xborder/state` of `gate`'s side, as a logged-in control room asks it."""
    context = ApiContext(
        sessions=sessions,
        kafka=KafkaSettings(bootstrap="127.0.0.1:1"),
        bootstrap="127.0.0.1:1",
        gates=default_gates(),
        default_gate=gate,
    )
    transport = httpx.ASGITransport(app=create_app(context))
    async with httpx.AsyncClient(transport=transport, base_url="http://bf.test") as client:
        client.cookies.update(await staff_cookies_on(sessions))
        response = await client.get("/v1/xborder/state")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
