"""Benchmark of the control room's live stream: N concurrent live clients (Server-Sent
Events, each logged in with its own session) while plate reads flow at R reads/s through
the real system: embedded broker, the decider worker and the API each in its own process,
SQLite (or PostgreSQL). Measured: the delay from a read's publication on
`borderflow.plate-reads` to the first snapshot, at each client, that shows its truck (in its
lane, on a carrier slot, in the review queue or among the latest decisions).

Target (issue 6): 50 clients, 100 reads/s, p95 <= 1 s. Ends with one JSON line.

    python bench/live_queue.py [--clients 50] [--rate 100] [--seconds 20] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from lanes.model import Direction, Manifest
from services.bootstrap import prepare_database
from services.control.patch import apply
from services.db.controllers import create_controller
from services.db.engine import create_engine, session_factory
from services.db.manifests import upsert_manifests
from services.gates.loader import default_gates
from services.runtime.settings import DatabaseSettings, KafkaSettings
from streams.broker import EmbeddedBroker
from streams.clients import ensure_topics
from streams.topics import LANE_DECISIONS, PLATE_READS, all_topics

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get(
    "BORDERFLOW_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "bench password"
TARGET_P95_MS = 1000.0
CAMERAS = ("hn-exp-gate-1", "hn-exp-gate-2")


def plate(n: int) -> str:
    """Distinct Vietnamese plates, spread over the serial space (few look-alike pairs)."""
    serial = (n * 7_919 + 13_577) % 100_000
    return f"{15 + n % 80}{'CDHLR'[n % 5 if n % 5 != 4 else 0]}{serial:05d}"


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))], 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


PLATE = re.compile(r'"plate":"([^"]+)"')
BUILD = re.compile(r'"build_ms":(?:\{"\$v":)?([0-9.]+)')  # in a snapshot or a patch


class Client:
    """One live page: its own session and stream; notes when each pending plate shows.
    Pages get the same snapshot text: its plates are extracted once per snapshot (`seen_in`),
    so the bench's own parsing does not weigh on what it measures."""

    seen_in: ClassVar[dict[str, frozenset[str]]] = {}
    builds_ms: ClassVar[list[float]] = []

    def __init__(self, base: str, order: list[str], *, verify: bool = False) -> None:
        self.base, self.order = base, order
        self.verify = verify  # keep the page's state by applying each patch, as the page does
        self.state: dict[str, Any] | None = None
        self.out_of_step = 0
        self.seen: dict[str, float] = {}
        self.pending: set[str] = set()
        self.cursor = 0
        self.pushes = 0
        self.bytes = 0
        self.reconnects = -1

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=None) as http:
            r = await http.post(
                "/control/api/login", json={"username": "bench", "password": PASSWORD}
            )
            r.raise_for_status()
            seq, kind = "", ""
            while not stop.is_set():
                self.reconnects += 1
                async with http.stream("GET", "/control/api/stream") as stream:
                    async for line in stream.aiter_lines():
                        if line.startswith("id: "):
                            seq = line[4:]
                        elif line.startswith("event: "):
                            kind = line[7:]
                        elif line.startswith("data: ") and kind in ("state", "patch"):
                            self._look(seq, line, time.perf_counter())
                            if self.verify:
                                self._keep(kind, line[6:])

    def _keep(self, kind: str, data: str) -> None:
        body = json.loads(data)
        if kind == "state":
            self.state = body
        elif self.state is None or self.state["seq"] != body["base"]:
            self.out_of_step += 1
        else:
            self.state = apply(self.state, body["diff"])

    def _look(self, seq: str, data: str, now: float) -> None:
        self.pushes += 1
        self.bytes += len(data)
        plates = self.seen_in.get(seq)
        if plates is None:
            plates = self.seen_in[seq] = frozenset(PLATE.findall(data))
            built = BUILD.search(data)
            if built:
                self.builds_ms.append(float(built.group(1)))
        self.pending.update(self.order[self.cursor :])
        self.cursor = len(self.order)
        for p in self.pending & plates:
            self.seen[p] = now
        self.pending -= plates

    def reset(self) -> None:
        self.seen.clear()
        self.pending.clear()
        self.cursor = len(self.order)


async def watch_decisions(bootstrap: str, decided: dict[str, float], stop: asyncio.Event) -> None:
    """When each truck's decision reached Kafka: splits the delay into the decider's part
    and the control room's part."""
    consumer = AIOKafkaConsumer(
        LANE_DECISIONS.name,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="latest",
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    found = PLATE.search(record.value.decode())
                    if found:
                        decided.setdefault(found.group(1), now)
    finally:
        await consumer.stop()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bf-live-"))
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    if args.db == "postgres":
        admin = create_async_engine(PG_URL)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        db = DatabaseSettings(url=PG_URL, schema_name=schema)
    else:
        db = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp / 'bench.db'}")
    warm_trucks = 20
    trucks = int(args.rate * args.seconds)
    broker = EmbeddedBroker(log_path=tmp / "tansu.log")
    await broker.start()
    engine = create_engine(db)
    procs: list[subprocess.Popen[bytes]] = []
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=2)
    stop = asyncio.Event()
    try:
        await prepare_database(engine, default_gates())
        start = datetime.now(UTC)
        manifests = [
            Manifest(
                manifest_id=f"MF-{n:06d}",
                firm_id=f"firm-{n % 20:02d}",
                direction=Direction.EXPORT,
                tractor_plate=plate(n),
            )
            for n in range(warm_trucks + trucks)
            if n % 10 != 9  # one truck in ten has no manifest: review
        ]
        async with session_factory(engine)() as session, session.begin():
            await upsert_manifests(session=session, manifests=manifests, now=start)
            await create_controller(
                session=session, username="bench", role="viewer", password=PASSWORD, now=start
            )
        await ensure_topics(KafkaSettings(), broker.bootstrap, all_topics())
        port = free_port()
        env = dict(
            os.environ,
            BORDERFLOW_KAFKA_BOOTSTRAP=broker.bootstrap,
            BORDERFLOW_DATABASE_URL=db.url,
            BORDERFLOW_LOG_LEVEL="WARNING",
            BORDERFLOW_API_PORT=str(port),
            BORDERFLOW_KAFKA_SESSION_TIMEOUT_MS="6000",
            BORDERFLOW_KAFKA_HEARTBEAT_INTERVAL_MS="1000",
        )
        if db.schema_name:
            env["BORDERFLOW_DATABASE_SCHEMA_NAME"] = db.schema_name
        for role in (["worker", "decider"], ["api"]):
            profile = (
                [] if not args.profile else ["-m", "cProfile", "-o", f"{args.profile}.{role[-1]}"]
            )
            procs.append(
                subprocess.Popen(
                    [sys.executable, *profile, "-m", "services.cli", *role],
                    env=env,
                    cwd=ROOT,
                    stdout=(tmp / f"{role[-1]}.log").open("wb"),
                    stderr=subprocess.STDOUT,
                )
            )
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(300):
                try:
                    if (await http.get("/control")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"the API did not start; see {tmp}/api.log")
        await producer.start()
        sent: dict[str, float] = {}
        order: list[str] = []
        clients = [Client(base, order, verify=n == 0) for n in range(args.clients)]
        decided: dict[str, float] = {}
        tasks = [asyncio.create_task(c.run(stop)) for c in clients]
        tasks.append(asyncio.create_task(watch_decisions(broker.bootstrap, decided, stop)))
        await asyncio.sleep(2.0)

        async def publish(first: int, count: int, rate: float) -> float:
            t0 = time.perf_counter()
            for k in range(count):
                n = first + k
                delay = t0 + k / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                at = start + timedelta(seconds=n * args.gate_seconds_per_truck)
                body = {
                    "event_id": f"bench-{n}",
                    "camera_id": CAMERAS[n % 2],
                    "captured_at": at.isoformat(),
                    "plate_text": plate(n),
                    "confidence": 0.95,
                }
                sent[plate(n)] = time.perf_counter()
                order.append(plate(n))
                await producer.send(
                    PLATE_READS.name, value=json.dumps(body).encode(), key=CAMERAS[n % 2].encode()
                )
            await producer.flush()
            return time.perf_counter() - t0

        await publish(0, warm_trucks, 10)  # warm-up: the decider joined, pages live
        await asyncio.sleep(3)
        sent.clear()
        for c in clients:
            c.reset()
        took = await publish(warm_trucks, trucks, args.rate)
        await asyncio.sleep(args.drain)  # stragglers
        # the page state one client built from the patches equals the server's snapshot
        patches_exact = False
        async with httpx.AsyncClient(base_url=base) as http:
            await http.post("/control/api/login", json={"username": "bench", "password": PASSWORD})
            for _ in range(20):  # until the client holds the seq the server has now
                current = (await http.get("/control/api/state")).json()
                kept = clients[0].state or {}
                if kept.get("seq") == current["seq"]:
                    patches_exact = clients[0].out_of_step == 0 and kept == current
                    break
                await asyncio.sleep(0.2)
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        delays = [(c.seen[p] - sent[p]) * 1000 for c in clients for p in sent if p in c.seen]
        to_kafka = [(decided[p] - sent[p]) * 1000 for p in sent if p in decided]
        to_page = [(c.seen[p] - decided[p]) * 1000 for c in clients for p in c.seen if p in decided]
        missed = sum(1 for c in clients for p in sent if p not in c.seen)
        return {
            "bench": "live_queue",
            "db": args.db,
            "clients": args.clients,
            "reads_offered_per_s": args.rate,
            "gate_seconds_per_truck": args.gate_seconds_per_truck,
            "reads_sent_per_s": round(trucks / took, 1),
            "reads": trucks,
            "observations": len(delays),
            "missed": missed,
            "delay_p50_ms": pct(delays, 50),
            "delay_p95_ms": pct(delays, 95),
            "delay_max_ms": round(max(delays), 1) if delays else None,
            "read_to_decision_on_kafka_p50_ms": pct(to_kafka, 50),
            "read_to_decision_on_kafka_p95_ms": pct(to_kafka, 95),
            "decision_on_kafka_to_page_p50_ms": pct(to_page, 50),
            "decision_on_kafka_to_page_p95_ms": pct(to_page, 95),
            "pushes_per_client_per_s": round(
                sum(c.pushes for c in clients) / max(1, len(clients)) / (took + args.drain), 2
            ),
            "patches_rebuild_the_snapshot": patches_exact,
            "push_kib_avg": round(
                sum(c.bytes for c in clients) / max(1, sum(c.pushes for c in clients)) / 1024, 1
            ),
            "reconnects": sum(c.reconnects for c in clients),
            "snapshot_build_ms_p50": pct(Client.builds_ms, 50),
            "snapshot_build_ms_p95": pct(Client.builds_ms, 95),
            "target_p95_ms": TARGET_P95_MS,
            "p95_met": bool(delays) and (pct(delays, 95) or 0) <= TARGET_P95_MS and missed == 0,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}",
        }
    finally:
        stop.set()
        await producer.stop()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        await engine.dispose()
        await broker.stop()
        if args.db == "postgres":
            admin = create_async_engine(PG_URL)
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--drain", type=float, default=10.0, help="wait for stragglers (s)")
    parser.add_argument(
        "--gate-seconds-per-truck",
        type=float,
        default=28.8,
        help="gate (event) time between trucks: 28.8 s is a 3,000-truck day, played at --rate "
        "(the lanes serve their queues as at a gate); 1/rate makes every truck arrive within "
        "the run's seconds of gate time (queues grow without bound)",
    )
    parser.add_argument(
        "--profile", metavar="PREFIX", help="run the decider and the API under cProfile"
    )
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(
        f"{result['clients']} live clients, {result['reads_sent_per_s']} reads/s for "
        f"{args.seconds:.0f} s ({result['db']}): publication -> appearance p50 "
        f"{result['delay_p50_ms']} ms, p95 {result['delay_p95_ms']} ms, max "
        f"{result['delay_max_ms']} ms; {result['missed']} missed of "
        f"{result['observations'] + result['missed']}; {result['pushes_per_client_per_s']} "
        f"pushes/s per client, {result['push_kib_avg']} KiB each (patches rebuild the "
        f"snapshot exactly: {result['patches_rebuild_the_snapshot']}); of which read -> "
        f"decision on Kafka p50 {result['read_to_decision_on_kafka_p50_ms']} ms, p95 "
        f"{result['read_to_decision_on_kafka_p95_ms']} ms (the decider), decision on Kafka -> "
        f"page p50 {result['decision_on_kafka_to_page_p50_ms']} ms, p95 "
        f"{result['decision_on_kafka_to_page_p95_ms']} ms (the control room)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
