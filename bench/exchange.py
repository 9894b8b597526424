"""Benchmark of the cross-border link (issue 21): throughput, and the delay from a truck's
exit published on one side to its exit applied on the other, at 3,000 trucks a day and at
100 times that.

Two embedded brokers and two SQLite databases, the two sides' link workers in this process
(outbound, signing, outbox, forwarder to the other broker, verification, exactly-once apply
and the ack back). Baseline, measured in the same run on the same brokers: a raw Kafka-to-
Kafka bridge (consume on one broker, produce to the other; no filtering, no signature, no
database), what MirrorMaker 2 alone would do.

- 1x (3,000 trucks a day, one truck every 29 s): the link is idle between two trucks, so
  each truck is sent alone and awaited (`--isolated` trucks);
- 100x (300,000 a day, 3.5 trucks a second, notice + exit each): paced for `--seconds`;
- burst: `--burst` messages at once, the time until the other side applied them all.

    python bench/exchange.py [--seconds 30] [--isolated 20] [--burst 6000]

Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lanes.containers import check_digit  # noqa: E402
from lanes.crossings import Side  # noqa: E402
from services.bootstrap import prepare_database  # noqa: E402
from services.db.engine import create_engine, session_factory  # noqa: E402
from services.gates.loader import default_gates  # noqa: E402
from services.runtime.settings import DatabaseSettings, KafkaSettings  # noqa: E402
from services.xborder.config import OUTBOUND_TOPIC, XborderSettings  # noqa: E402
from services.xborder.link import Link  # noqa: E402
from services.xborder.tables import XborderInboxRow  # noqa: E402
from streams.broker import EmbeddedBroker  # noqa: E402
from streams.clients import ensure_topics, make_producer  # noqa: E402
from streams.topics import TopicSpec  # noqa: E402
from streams.xborder_local import LocalCrossingEventV1  # noqa: E402
from streams.xborder_sign import SigningKey  # noqa: E402

DAY_TRUCKS = 3_000
T0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
RAW_OUT, RAW_IN = "bench.raw.out", "bench.raw.in"
WARMUP = 3


def kafka(bootstrap: str) -> KafkaSettings:
    return KafkaSettings(
        bootstrap=bootstrap,
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
        fetch_max_wait_ms=20,
        request_timeout_s=10,
    )


def truck(n: int) -> list[LocalCrossingEventV1]:
    """Notice and exit of truck `n` leaving Vietnam."""
    first = f"CSQU{n % 1_000_000:06d}"
    common: dict[str, Any] = {
        "crossing_id": f"VN-x{n:07d}",
        "gate_id": "huu-nghi",
        "peer_gate_id": "youyiguan",
        "direction": "export",
        "tractor_plate": f"29H{n % 100000:05d}",
        "trailer_plate": f"29R{n % 100000:05d}",
        "containers": [f"{first}{check_digit(first)}"],
        "firm_id": "firm-1",
    }
    at = T0 + timedelta(seconds=n)
    return [
        LocalCrossingEventV1(
            event_id=f"n{n:07d}", kind="notice", at=at - timedelta(minutes=30), **common
        ),
        LocalCrossingEventV1(event_id=f"e{n:07d}", kind="exit", at=at, mode="road", **common),
    ]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def summary(delays_s: list[float]) -> dict[str, float]:
    ms = [d * 1000 for d in delays_s]
    return {
        "n": len(ms),
        "p50_ms": round(pct(ms, 0.5), 1),
        "p95_ms": round(pct(ms, 0.95), 1),
        "max_ms": round(max(ms, default=0.0), 1),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else 0.0,
    }


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError("the other side did not catch up")
        await asyncio.sleep(0.01)


class Sides:
    """Two brokers, two databases, two links."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.brokers = {s: EmbeddedBroker(log_path=tmp / f"tansu-{s.value}.log") for s in Side}
        self.keys = {s: SigningKey.generate(f"{s.value.lower()}-bench", s) for s in Side}
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.producers: dict[Side, AIOKafkaProducer] = {}

    async def start(self) -> None:
        self.engines = {}
        for side in Side:
            await self.brokers[side].start()
            db = DatabaseSettings(url=f"sqlite+aiosqlite:///{self.tmp / side.value}.db")
            self.engines[side] = create_engine(db)
            await prepare_database(self.engines[side], default_gates())
        self.sessions = {s: session_factory(e) for s, e in self.engines.items()}
        for side in Side:
            bootstrap = self.brokers[side].bootstrap
            producer = make_producer(kafka(bootstrap), bootstrap)
            await producer.start()
            self.producers[side] = producer
            peer = side.other
            link = Link(
                settings=XborderSettings(
                    side=side,
                    peer_bootstrap=self.brokers[peer].bootstrap,
                    signing_key_id=self.keys[side].key_id,
                    signing_key=self.keys[side].private_base64(),  # type: ignore[arg-type]
                    trusted_keys=json.dumps(
                        {self.keys[peer].key_id: self.keys[peer].public_base64()}
                    ),
                    poll_s=0.05,
                ),
                kafka=kafka(bootstrap),
                bootstrap=bootstrap,
                sessions=self.sessions[side],
                producer=producer,
            )
            self.tasks.append(asyncio.create_task(link.run(self.stop)))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for producer in self.producers.values():
            await producer.stop()
        for engine in self.engines.values():
            await engine.dispose()
        for broker in self.brokers.values():
            await broker.stop()

    async def publish(self, events: list[LocalCrossingEventV1], sent: dict[str, float]) -> None:
        producer = self.producers[Side.VN]
        for event in events:
            await producer.send(OUTBOUND_TOPIC, value=event.model_dump_json().encode(), key=b"VN")
            sent[f"VN:{event.event_id}"] = time.time()
        await producer.flush()

    async def applied(self) -> int:
        async with self.sessions[Side.CN]() as session:
            return int(await session.scalar(select(func.count()).select_from(XborderInboxRow)))

    async def delays(self, sent: dict[str, float]) -> list[float]:
        """Exit published on VN -> applied on CN (its inbox row's received_at)."""
        async with self.sessions[Side.CN]() as session:
            rows = (
                await session.execute(
                    select(XborderInboxRow.message_id, XborderInboxRow.received_at).where(
                        XborderInboxRow.message_id.in_(list(sent))
                    )
                )
            ).all()
        return [
            r.received_at.timestamp() - sent[r.message_id] for r in rows if ":e" in r.message_id
        ]


async def run_link(args: argparse.Namespace, sides: Sides) -> dict[str, Any]:
    n = 0
    # 1x: one truck at a time, the link idle in between (as at one truck every 29 s); the
    # first WARMUP trucks (consumer groups joining) are not counted
    isolated: dict[str, float] = {}
    for i in range(WARMUP + args.isolated):
        if i == WARMUP:
            isolated.clear()
        before = await sides.applied()
        await sides.publish(truck(n), isolated)
        n += 1

        async def caught(before: int = before) -> bool:
            return await sides.applied() >= before + 2

        await until(caught)
    # 100x: 3.47 trucks a second, paced
    rate = DAY_TRUCKS * 100 / 86_400
    paced: dict[str, float] = {}
    started = time.monotonic()
    count = int(rate * args.seconds)
    for i in range(count):
        await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
        await sides.publish(truck(n), paced)
        n += 1
    expected = 2 * (WARMUP + args.isolated) + len(paced)

    async def all_paced() -> bool:
        return await sides.applied() >= expected

    await until(all_paced)
    # burst
    before = await sides.applied()
    burst: dict[str, float] = {}
    events = [e for i in range(args.burst // 2) for e in truck(n + i)]
    t = time.monotonic()
    await sides.publish(events, burst)

    async def all_burst() -> bool:
        return await sides.applied() >= before + len(events)

    await until(all_burst, timeout_s=900)
    elapsed = time.monotonic() - t
    return {
        "x1": summary(await sides.delays(isolated)),
        "x100": summary(await sides.delays(paced)) | {"trucks_per_s": round(rate, 2)},
        "burst": {"messages": len(events), "seconds": round(elapsed, 2)}
        | {"messages_per_s": round(len(events) / elapsed, 1)},
    }


async def run_raw(args: argparse.Namespace, sides: Sides) -> dict[str, Any]:
    """The baseline: consume on VN, produce to CN, nothing else."""
    vn, cn = sides.brokers[Side.VN].bootstrap, sides.brokers[Side.CN].bootstrap
    await ensure_topics(kafka(vn), vn, [TopicSpec(RAW_OUT, 3, "k", "bench")])
    await ensure_topics(kafka(cn), cn, [TopicSpec(RAW_IN, 1, "k", "bench")])
    arrived: dict[str, float] = {}
    stop = asyncio.Event()

    async def bridge() -> None:
        consumer = AIOKafkaConsumer(
            RAW_OUT,
            bootstrap_servers=vn,
            group_id="raw-bridge",
            auto_offset_reset="earliest",
            fetch_max_wait_ms=20,
            enable_auto_commit=False,
        )
        producer = make_producer(kafka(cn), cn)
        await consumer.start()
        await producer.start()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=50, max_records=500)
                records = [r for part in batches.values() for r in part]
                futures = [await producer.send(RAW_IN, value=r.value, key=r.key) for r in records]
                await asyncio.gather(*futures)
                if records:
                    await consumer.commit()
        finally:
            await consumer.stop()
            await producer.stop()

    async def sink() -> None:
        consumer = AIOKafkaConsumer(
            RAW_IN,
            bootstrap_servers=cn,
            group_id="raw-sink",
            auto_offset_reset="earliest",
            fetch_max_wait_ms=20,
        )
        await consumer.start()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=50)
                now = time.time()
                for part in batches.values():
                    for r in part:
                        arrived[r.key.decode()] = now
        finally:
            await consumer.stop()

    tasks = [asyncio.create_task(bridge()), asyncio.create_task(sink())]
    producer = sides.producers[Side.VN]

    async def send(events: list[LocalCrossingEventV1], into: dict[str, float]) -> None:
        for e in events:
            await producer.send(
                RAW_OUT, value=e.model_dump_json().encode(), key=e.event_id.encode()
            )
            into[e.event_id] = time.time()
        await producer.flush()

    def delays(of: dict[str, float]) -> list[float]:
        return [arrived[k] - t for k, t in of.items() if k in arrived and k.startswith("e")]

    n = 900_000
    isolated: dict[str, float] = {}
    for i in range(WARMUP + args.isolated):
        if i == WARMUP:
            isolated.clear()
        await send(truck(n), isolated)
        n += 1
        await until(lambda: _true(all(k in arrived for k in isolated)))
    rate = DAY_TRUCKS * 100 / 86_400
    paced: dict[str, float] = {}
    started = time.monotonic()
    for i in range(int(rate * args.seconds)):
        await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
        await send(truck(n), paced)
        n += 1
    await until(lambda: _true(all(k in arrived for k in paced)))
    burst: dict[str, float] = {}
    events = [e for i in range(args.burst // 2) for e in truck(n + i)]
    t = time.monotonic()
    await send(events, burst)
    await until(lambda: _true(all(k in arrived for k in burst)), timeout_s=900)
    elapsed = time.monotonic() - t
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "x1": summary(delays(isolated)),
        "x100": summary(delays(paced)),
        "burst": {"messages": len(events), "seconds": round(elapsed, 2)}
        | {"messages_per_s": round(len(events) / elapsed, 1)},
    }


async def _true(value: bool) -> bool:
    return value


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-exchange-") as tmp:
        sides = Sides(Path(tmp))
        await sides.start()
        try:
            link = await run_link(args, sides)
            raw = await run_raw(args, sides)
        finally:
            await sides.close()
    return {"bench": "exchange", "link": link, "baseline_raw_bridge": raw}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30, help="the 100x run's length")
    parser.add_argument("--isolated", type=int, default=20, help="trucks sent alone (1x)")
    parser.add_argument("--burst", type=int, default=6_000, help="messages sent at once")
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    result["machine"] = f"{platform.machine()}, {platform.python_version()}"
    result["args"] = vars(args)
    for name in ("link", "baseline_raw_bridge"):
        r = result[name]
        print(
            f"{name:20s} 1x delay p50 {r['x1']['p50_ms']} ms p95 {r['x1']['p95_ms']} ms | "
            f"100x delay p50 {r['x100']['p50_ms']} ms p95 {r['x100']['p95_ms']} ms "
            f"max {r['x100']['max_ms']} ms (n={r['x100']['n']}) | burst "
            f"{r['burst']['messages_per_s']} msg/s"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
