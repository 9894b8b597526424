"""`borderflow xborder demo`: both sides of the gate on one machine (issue 21).

Two embedded brokers, two SQLite databases (`var/xborder/vn.db`, `var/xborder/cn.db`), the
two link workers with fresh keys, and simulated trucks both ways: each side announces and
lets out its trucks; each side lets in the trucks the other announced once their transit is
over (a few never arrive, a few arrive with another trailer). Every few seconds it prints
each side's view: messages sent and applied, waiting in the outbox, crossings, alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from lanes.containers import check_digit
from lanes.crossings import AlertKind, Corridor, Side, reconcile
from lanes.values import gate_clock
from services.bootstrap import open_database
from services.bootstrap.serving import install_stop_signals
from services.gates.loader import configured_gates
from services.runtime.settings import KafkaSettings, Settings
from services.xborder import store as xstore
from services.xborder.config import OUTBOUND_TOPIC, XborderSettings
from services.xborder.corridor import side_gates_dir
from services.xborder.link import Link
from streams import clock
from streams.broker import EmbeddedBroker
from streams.clients import make_producer
from streams.xborder_local import LocalCrossingEventV1

GATES = {Side.VN: "huu-nghi", Side.CN: "youyiguan"}
CORRIDOR = Corridor(timedelta(minutes=20), timedelta(minutes=40))  # the gate files' values


@dataclass
class DemoSide:
    side: Side
    broker: EmbeddedBroker
    sessions: Any
    producer: AIOKafkaProducer
    link: Link | None = None


def _truck(side: Side, n: int, at: datetime) -> list[LocalCrossingEventV1]:
    prefix = "CSQU" if side is Side.VN else "TGHU"
    first = f"{prefix}{n % 1_000_000:06d}"
    tractor = f"29H{10000 + n:05d}" if side is Side.VN else f"桂A{20000 + n:05d}"
    trailer = f"29R{10000 + n:05d}" if side is Side.VN else f"桂A{1000 + n % 9000:04d}挂"
    common: dict[str, Any] = {
        "crossing_id": f"{side.value}-{n:05d}",
        "gate_id": GATES[side],
        "peer_gate_id": GATES[side.other],
        "direction": "export" if side is Side.VN else "import",
        "tractor_plate": tractor,
        "trailer_plate": trailer,
        "containers": [f"{first}{check_digit(first)}"],
    }
    return [
        LocalCrossingEventV1(
            event_id=f"{side.value}-n{n:05d}",
            kind="notice",
            at=at - timedelta(minutes=30),
            cargo_classes=["container"],
            **common,
        ),
        LocalCrossingEventV1(
            event_id=f"{side.value}-e{n:05d}",
            kind="exit",
            at=at,
            mode="road" if n % 5 else "autonomous_carrier",
            **common,
        ),
    ]


async def _publish(producer: AIOKafkaProducer, events: list[LocalCrossingEventV1]) -> None:
    for event in events:
        await producer.send(OUTBOUND_TOPIC, value=event.model_dump_json().encode())
    await producer.flush()


class Demo:
    def __init__(self, settings: Settings, *, trucks: int, speedup: float, seed: int) -> None:
        self.settings, self.trucks, self.speedup = settings, trucks, speedup
        self.rng = random.Random(seed)
        self.start = clock.wall_clock().replace(minute=0, second=0, microsecond=0)
        self.started = time.monotonic()
        self.sides: dict[Side, DemoSide] = {}
        self.entered: set[str] = set()

    def now(self) -> datetime:
        """The simulated gate clock (event time)."""
        return self.start + timedelta(seconds=(time.monotonic() - self.started) * self.speedup)

    async def up(self, stack: contextlib.AsyncExitStack, folder: Path) -> None:
        await asyncio.to_thread(_fresh, folder)
        for side in Side:
            broker = EmbeddedBroker(log_path=folder / f"tansu-{side.value.lower()}.log")
            await broker.start()
            stack.push_async_callback(broker.stop)
            database = self.settings.database.model_copy(
                update={"url": f"sqlite+aiosqlite:///{folder / side.value.lower()}.db"}
            )
            sessions = await stack.enter_async_context(open_database(database, gates={}))
            kafka = KafkaSettings(bootstrap=broker.bootstrap, session_timeout_ms=2000)
            producer = make_producer(kafka, broker.bootstrap)
            await producer.start()
            stack.push_async_callback(producer.stop)
            self.sides[side] = DemoSide(side, broker, sessions, producer)
        keys = {s: xstore_keys(s) for s in Side}
        for side, one in self.sides.items():
            peer = self.sides[side.other]
            one.link = Link(
                settings=XborderSettings(
                    side=side,
                    peer_bootstrap=peer.broker.bootstrap,
                    signing_key_id=keys[side][0],
                    signing_key=keys[side][1],
                    trusted_keys=json.dumps({keys[side.other][0]: keys[side.other][2]}),
                ),
                kafka=KafkaSettings(bootstrap=one.broker.bootstrap, session_timeout_ms=2000),
                bootstrap=one.broker.bootstrap,
                sessions=one.sessions,
                producer=one.producer,
            )

    async def departures(self, stop: asyncio.Event) -> None:
        every = 86_400 / max(1, self.trucks) / self.speedup
        for n in range(self.trucks):
            if stop.is_set():
                return
            for side in Side:
                await _publish(self.sides[side].producer, _truck(side, n, self.now()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)

    async def arrivals(self, stop: asyncio.Event) -> None:
        """Each side lets in the trucks the other let out, once their transit is over; one
        in 40 never arrives, one in 40 arrives with another trailer."""
        while not stop.is_set():
            for side, one in self.sides.items():
                async with one.sessions() as session:
                    crossings = await xstore.all_crossings(session)
                due = [
                    c
                    for c in crossings
                    if c.from_side is side.other
                    and c.exit is not None
                    and c.entry is None
                    and c.crossing_id not in self.entered
                    and c.exit.at + CORRIDOR.expected_transit <= self.now()
                ]
                events = []
                for crossing in due:
                    self.entered.add(crossing.crossing_id)
                    luck = self.rng.random()
                    if luck < 0.025 or crossing.exit is None:
                        continue  # lost on the way
                    truck = crossing.exit.truck
                    trailer = truck.trailer_plate
                    if luck < 0.05 and trailer:
                        trailer = trailer[:-2] + "99" if side is Side.CN else "29R99999"
                    events.append(
                        LocalCrossingEventV1(
                            event_id=f"{side.value}-in-{crossing.crossing_id}",
                            kind="entry",
                            at=self.now(),
                            gate_id=GATES[side],
                            tractor_plate=truck.tractor_plate,
                            trailer_plate=trailer,
                            containers=list(truck.containers),
                        )
                    )
                await _publish(one.producer, events)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.5)

    async def report(self) -> str:
        lines = [clock_line(self.now())]
        for side, one in self.sides.items():
            async with one.sessions() as session:
                state = await xstore.link_state(session, me=side)
                crossings = await xstore.all_crossings(session)
            alerts = reconcile(crossings, now=self.now(), corridor=CORRIDOR)
            overdue = sum(a.kind is AlertKind.OVERDUE for a in alerts)
            mismatch = sum(a.kind is AlertKind.MISMATCH for a in alerts)
            entered = sum(c.entry is not None for c in crossings)
            refused = sum(
                v for k, v in (one.link.stats if one.link else {}).items() if "refused" in k
            )
            lines.append(
                f"  {side.value} {GATES[side]:9s} sent {state.last_sent:5d}  applied "
                f"{state.last_received:5d}  waiting {state.pending:4d}  unacked "
                f"{state.unacked:4d}  crossings {len(crossings):4d} (entered {entered:4d})  "
                f"overdue {overdue:3d}  mismatch {mismatch:3d}  refused {refused}"
            )
        return "\n".join(lines)


def clock_line(now: datetime) -> str:
    """The demo's gate clock on each gate's own clock (its gate file's offset): `gate clock
    huu-nghi 2028-01-01 05:42 (UTC+07:00), youyiguan 2028-01-01 06:42 (UTC+08:00)` (until
    2026-12-06 in UTC, a day behind both gates at 22:42 UTC on new year's eve)."""
    told = []
    for side, gate_id in GATES.items():
        gate = configured_gates(side_gates_dir(side))[gate_id]
        told.append(f"{gate_id} {gate_clock(now, gate.utc_offset, zone='named')}")
    return "gate clock " + ", ".join(told)


def _fresh(folder: Path) -> None:
    """The demo's folder, without the databases of an earlier run."""
    folder.mkdir(parents=True, exist_ok=True)
    for side in Side:
        for suffix in ("", "-wal", "-shm"):
            (folder / f"{side.value.lower()}.db{suffix}").unlink(missing_ok=True)


def xstore_keys(side: Side) -> tuple[str, str, str]:
    from streams.xborder_sign import SigningKey  # noqa: PLC0415

    key = SigningKey.generate(f"{side.value.lower()}-demo", side)
    return key.key_id, key.private_base64(), key.public_base64()


async def main_demo(settings: Settings, *, trucks: int, speedup: float, seed: int) -> int:
    stop = asyncio.Event()
    install_stop_signals(stop)
    demo = Demo(settings, trucks=trucks, speedup=speedup, seed=seed)
    async with contextlib.AsyncExitStack() as stack:
        await demo.up(stack, settings.var_dir / "xborder")
        tasks = [
            asyncio.create_task(one.link.run(stop))
            for one in demo.sides.values()
            if one.link is not None
        ]
        tasks += [
            asyncio.create_task(demo.departures(stop)),
            asyncio.create_task(demo.arrivals(stop)),
        ]
        print(
            f"borderflow xborder demo: VN broker {demo.sides[Side.VN].broker.bootstrap}, "
            f"CN broker {demo.sides[Side.CN].broker.bootstrap}, databases under "
            f"{settings.var_dir / 'xborder'}; {trucks} trucks a day each way at x{speedup:g}; "
            "Ctrl-C stops",
            flush=True,
        )
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=5)
            print(await demo.report(), flush=True)
        await asyncio.gather(*tasks, return_exceptions=True)
    return 0
