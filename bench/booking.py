"""Benchmark of slot booking (issue 5): the real API (uvicorn, 2 worker processes, in a
subprocess) on PostgreSQL, 50 concurrent clients, each with its own firm and API key,
booking distinct manifests over the hourly slots of the next days (each a `POST
/v1/bookings` with its Idempotency-Key: auth, idempotency claim, manifest look-up, booking
row, conditional slot UPDATE and outbox event in one transaction).

Two measured runs after a warm-up:
- capacity: the 50 clients book back to back (closed loop): bookings/s is what the API
  sustains. Its latency is mostly queueing: with 50 requests always in flight, Little's law
  makes the mean latency 50 / throughput (167 ms at 300/s), whatever the server does.
- paced: the 50 clients together offer `--rate` bookings/s (300 by default, the issue's
  target), each on a fixed schedule (open loop; latency counts from the planned send time,
  so a server that falls behind is charged for the wait): p50/p99 at that load.
Targets (issue 5): >= 300 bookings/s (capacity) with p99 <= 100 ms (paced at 300/s), on a
2-core machine, no error. The load generator is a minimal keep-alive HTTP/1.1 client, not
httpx, whose own CPU per request would be taken from the cores the API runs on
(`--client httpx` to compare). Ends with one JSON line of the figures and the targets.

    python bench/booking.py [--quick] [--clients N] [--bookings N] [--rate R] [--workers W]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from lanes.model import Direction, Manifest
from services.bootstrap import prepare_database
from services.db.engine import create_engine, session_factory
from services.db.firms import create_firm
from services.db.manifests import store_manifests
from services.gates.loader import default_gates
from services.runtime.settings import DatabaseSettings

PG_URL = os.environ.get(
    "BORDERFLOW_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
TARGETS = {"bookings_per_s_min": 300, "p99_ms_max": 100}
LOCAL = timedelta(hours=7)
WARMUP = 200
REFUSALS: list[str] = []  # the first bodies of refused bookings (there should be none)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_factory() -> Any:
    """The API app on the bench's schema (`BORDERFLOW_BENCH_SCHEMA`), rate limits raised:
    what each uvicorn worker serves."""
    from services.api.app import ApiContext, create_app  # noqa: PLC0415
    from services.api.ratelimit import RateLimiter  # noqa: PLC0415
    from services.runtime.settings import KafkaSettings  # noqa: PLC0415

    schema = os.environ["BORDERFLOW_BENCH_SCHEMA"]
    engine = create_engine(DatabaseSettings(url=PG_URL, schema_name=schema, pool_size=20))
    context = ApiContext(
        sessions=session_factory(engine),
        kafka=KafkaSettings(bootstrap="127.0.0.1:9"),
        bootstrap="127.0.0.1:9",
        gates=default_gates(),
        default_gate="huu-nghi",
        limiter=RateLimiter(rate=100_000.0, burst=100_000),
    )
    return create_app(context)


def serve(schema: str, port: int, workers: int) -> None:
    """The child: the API on uvicorn, as `borderflow up` serves it (lifespan off: no
    booking-event publisher without a broker; the events stay in the outbox)."""
    import uvicorn  # noqa: PLC0415

    os.environ["BORDERFLOW_BENCH_SCHEMA"] = schema
    options: dict[str, Any] = {
        "factory": True,
        "host": "127.0.0.1",
        "port": port,
        "workers": workers,
        "log_level": "warning",
        "lifespan": "off",
    }
    profile_to = os.environ.get("BORDERFLOW_BENCH_PROFILE")
    if profile_to:  # the server's own CPU profile (one worker), written when it stops
        import contextlib  # noqa: PLC0415
        import cProfile  # noqa: PLC0415
        import signal  # noqa: PLC0415

        class Server(uvicorn.Server):
            def capture_signals(self) -> contextlib.nullcontext[None]:  # type: ignore[override]
                return contextlib.nullcontext()  # uvicorn would re-raise SIGTERM at exit

        del options["workers"]
        server = Server(uvicorn.Config("bench.booking:app_factory", **options))
        signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
        profiler = cProfile.Profile()
        profiler.runcall(server.run)
        profiler.dump_stats(profile_to)
        return
    uvicorn.run("bench.booking:app_factory", **options)


def slots() -> list[datetime]:
    """Full-size hourly slots (07:00-21:00 local; 06:00 is smaller), tomorrow to 6 days
    ahead, in UTC."""
    today = (datetime.now(UTC) + LOCAL).date()
    out = []
    for d in range(1, 7):
        day = today + timedelta(days=d)
        for hour in range(7, 22):
            out.append(datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - LOCAL)
    return out


async def setup(schema: str, clients: int, per_client: int) -> dict[str, str]:
    admin = create_async_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    engine = create_engine(DatabaseSettings(url=PG_URL, schema_name=schema))
    now = datetime.now(UTC)
    keys = {}
    try:
        await prepare_database(engine, default_gates())
        async with session_factory(engine)() as session, session.begin():
            for c in range(clients):
                firm = f"bench-{c:02d}"
                keys[firm] = (
                    await create_firm(session=session, firm_id=firm, name=firm, now=now)
                ).key
                manifests = [
                    Manifest(
                        manifest_id=f"{firm}-{j:05d}",
                        firm_id=firm,
                        # the n-th booking of all clients (n = j * clients + c): export and
                        # import alternate, two a slot (client_run); every fifth round
                        # over the slots perishable
                        direction=Direction.EXPORT if (j * clients + c) % 2 else Direction.IMPORT,
                        tractor_plate="29H12345",
                        perishable=(j * clients + c) // (2 * len(slots())) % 5 == 0,
                    )
                    for j in range(per_client)
                ]
                await store_manifests(session=session, manifests=manifests, source="http", now=now)
    finally:
        await engine.dispose()
    return keys


class RawClient:
    """A minimal HTTP/1.1 keep-alive client (asyncio streams): the bench measures the
    server, and httpx's own CPU per request would otherwise be taken from the same two
    cores the API runs on (`--client httpx` measures with it)."""

    def __init__(self, base: str) -> None:
        host, _, port = base.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.refusals: list[str] = []

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}", "", ""]
        self.writer.write("\r\n".join(lines).encode() + body)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        if status >= 400 and len(self.refusals) < 3:
            self.refusals.append(body.decode(errors="replace")[:300])
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def _book(
    client: RawClient | httpx.AsyncClient, firm: str, key: str, j: int, slot: datetime
) -> int:
    body = {"manifest_id": f"{firm}-{j:05d}", "slot_start": slot.isoformat()}
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": f"k-{firm}-{j}"}
    if isinstance(client, RawClient):
        return await client.post("/v1/bookings", json.dumps(body).encode(), headers)
    return (await client.post("/v1/bookings", json=body, headers=headers)).status_code


async def client_run(
    base: str,
    firm: str,
    key: str,
    *,
    manifests: range,
    offset: int,
    clients: int,
    latencies: list[float],
    codes: dict[int, int],
    raw: bool = True,
    interval: float | None = None,
) -> None:
    """One client: book `manifests` of its firm one after the other, over the slots; back
    to back (closed loop), or one every `interval` seconds (open loop: latency counts from
    the planned send time, so a server that falls behind is charged for the wait)."""
    all_slots = slots()
    client: RawClient | httpx.AsyncClient = (
        RawClient(base) if raw else httpx.AsyncClient(base_url=base, timeout=30)
    )
    planned = time.perf_counter() + (interval or 0) * (offset % clients) / clients
    try:
        for j in manifests:
            if interval is not None:
                await asyncio.sleep(max(0.0, planned - time.perf_counter()))
                started = planned
                planned += interval
            else:
                started = time.perf_counter()
            # the n-th booking of all clients goes to slot n // 2: every slot fills evenly,
            # half export, half import (the manifests' directions, see setup)
            slot = all_slots[(j * clients + offset) // 2 % len(all_slots)]
            status = await _book(client, firm, key, j, slot)
            latencies.append(time.perf_counter() - started)
            codes[status] = codes.get(status, 0) + 1
    finally:
        if isinstance(client, RawClient):
            REFUSALS.extend(client.refusals)
            await client.close()
        else:
            await client.aclose()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def _phase(
    base: str,
    keys: dict[str, str],
    *,
    first: int,
    per_client: int,
    raw: bool,
    interval: float | None = None,
) -> tuple[list[float], dict[int, int], float]:
    latencies: list[float] = []
    codes: dict[int, int] = {}
    started = time.perf_counter()
    await asyncio.gather(
        *(
            client_run(
                base,
                firm,
                keys[firm],
                manifests=range(first, first + per_client),
                offset=i,
                clients=len(keys),
                latencies=latencies,
                codes=codes,
                raw=raw,
                interval=interval,
            )
            for i, firm in enumerate(sorted(keys))
        )
    )
    return latencies, codes, time.perf_counter() - started


def _figures(latencies: list[float], codes: dict[int, int], seconds: float) -> dict[str, Any]:
    return {
        "requests": len(latencies),
        "booked": codes.get(201, 0),
        "status_codes": {str(k): v for k, v in sorted(codes.items())},
        "seconds": round(seconds, 2),
        "bookings_per_s": round(codes.get(201, 0) / seconds, 1),
        "p50_ms": round(_pct(latencies, 50) * 1000, 1),
        "p99_ms": round(_pct(latencies, 99) * 1000, 1),
    }


async def run(
    clients: int, capacity_n: int, *, rate: float, paced_s: float, workers: int, raw: bool
) -> dict[str, Any]:
    """Warm-up, then the closed-loop capacity run, then the paced run at `rate`."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    warm_each = WARMUP // clients + 1
    cap_each = max(1, capacity_n // clients)
    paced_each = max(1, round(rate * paced_s / clients))
    keys = await setup(schema, clients, warm_each + cap_each + paced_each)
    port = _free_port()
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            schema,
            "--port",
            f"{port}",
            "--workers",
            f"{workers}",
        ],
        env=dict(os.environ, PYTHONPATH=os.getcwd()),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                async with httpx.AsyncClient(base_url=base) as probe:
                    await probe.get("/docs")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        # warm-up: the first bookings of each firm (connections, caches), not measured
        _, warm_codes, _ = await _phase(base, keys, first=0, per_client=warm_each, raw=raw)
        capacity = _figures(
            *await _phase(base, keys, first=warm_each, per_client=cap_each, raw=raw)
        )
        paced = _figures(
            *await _phase(
                base,
                keys,
                first=warm_each + cap_each,
                per_client=paced_each,
                raw=raw,
                interval=clients / rate,
            )
        )
    finally:
        child.terminate()
        child.wait(30)
        admin = create_async_engine(PG_URL)
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()
    return {
        "clients": clients,
        "api_workers": workers,
        "client": "raw" if raw else "httpx",
        "warmup_status_codes": {str(k): v for k, v in sorted(warm_codes.items())},
        "capacity": capacity,
        "paced": paced | {"offered_per_s": rate},
        "refusals": REFUSALS[:5],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the bookings")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--bookings", type=int, default=2000, help="closed-loop run, in all")
    parser.add_argument("--rate", type=float, default=300.0, help="paced run: bookings/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="paced run: duration")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--client", choices=["raw", "httpx"], default="raw", help="the load generator's client"
    )
    parser.add_argument("--serve", metavar="SCHEMA", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.workers)
        return
    scale = 4 if args.quick else 1
    figures = asyncio.run(
        run(
            args.clients,
            args.bookings // scale,
            rate=args.rate,
            paced_s=args.seconds / scale,
            workers=args.workers,
            raw=args.client == "raw",
        )
    )
    capacity, paced = figures["capacity"], figures["paced"]
    passed = {
        "bookings_per_s": capacity["bookings_per_s"] >= TARGETS["bookings_per_s_min"],
        "p99_ms": paced["p99_ms"] <= TARGETS["p99_ms_max"],
        "no_errors": set(capacity["status_codes"]) | set(paced["status_codes"]) == {"201"},
    }
    print(
        f"capacity  {capacity['booked']} bookings back to back by {figures['clients']} clients "
        f"in {capacity['seconds']} s: {capacity['bookings_per_s']}/s, p50 {capacity['p50_ms']} "
        f"ms, p99 {capacity['p99_ms']} ms (status codes {capacity['status_codes']})"
    )
    print(
        f"paced     {paced['booked']} bookings offered at {args.rate:g}/s by {figures['clients']} "
        f"clients: {paced['bookings_per_s']}/s, p50 {paced['p50_ms']} ms, p99 {paced['p99_ms']} "
        f"ms (status codes {paced['status_codes']})"
    )
    for key, ok in passed.items():
        print(f"target    {key:16s} {'PASS' if ok else 'FAIL'}")
    print(
        json.dumps(
            {
                "bench": "booking",
                "figures": figures,
                "targets": TARGETS,
                "pass": {**passed, "all": all(passed.values())},
            }
        )
    )


if __name__ == "__main__":
    main()
