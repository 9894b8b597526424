"""Benchmark of slot booking (issue 5): the real API (uvicorn, in a subprocess) on
PostgreSQL, 50 concurrent httpx clients, each with its own firm and API key, booking distinct
manifests over the hourly slots of the next days (each a `POST /v1/bookings` with its
Idempotency-Key: auth, idempotency claim, manifest look-up, booking row, conditional slot
UPDATE and outbox event in one transaction).

Figures: bookings/s over the measured run (after a warm-up), client-side latency p50/p99,
refusals and errors (there should be none: the slots have room). Targets (issue 5):
>= 300 bookings/s with p99 <= 100 ms on a 2-core machine. Ends with one JSON line of the
figures and the targets.

    python bench/booking.py [--quick] [--clients N] [--bookings N]
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
from services.config import DatabaseSettings
from services.db.engine import create_engine, session_factory
from services.db.firms import create_firm
from services.db.manifests import store_manifests
from services.gate_config import default_gates

PG_URL = os.environ.get(
    "BORDERFLOW_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
TARGETS = {"bookings_per_s_min": 300, "p99_ms_max": 100}
LOCAL = timedelta(hours=7)
WARMUP = 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_factory() -> Any:
    """The API app on the bench's schema (`BORDERFLOW_BENCH_SCHEMA`), rate limits raised:
    what each uvicorn worker serves."""
    from services.api.app import ApiContext, create_app  # noqa: PLC0415
    from services.api.ratelimit import RateLimiter  # noqa: PLC0415
    from services.config import KafkaSettings  # noqa: PLC0415

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
    uvicorn.run(
        "bench.booking:app_factory",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        lifespan="off",
    )


def slots() -> list[datetime]:
    """Bookable hourly slots (07:00-21:00 local) from tomorrow to 6 days ahead, in UTC."""
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
                        direction=Direction.EXPORT if j % 2 else Direction.IMPORT,
                        tractor_plate="29H12345",
                        perishable=j % 5 == 0,
                    )
                    for j in range(per_client)
                ]
                await store_manifests(session=session, manifests=manifests, source="http", now=now)
    finally:
        await engine.dispose()
    return keys


async def client_run(
    base: str,
    firm: str,
    key: str,
    *,
    manifests: range,
    offset: int,
    latencies: list[float],
    codes: dict[int, int],
) -> None:
    """One client: book `manifests` of its firm one after the other, over the slots."""
    all_slots = slots()
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for j in manifests:
            slot = all_slots[(offset + j) % len(all_slots)]
            body = {"manifest_id": f"{firm}-{j:05d}", "slot_start": slot.isoformat()}
            started = time.perf_counter()
            response = await client.post(
                "/v1/bookings", json=body, headers=headers | {"Idempotency-Key": f"k-{firm}-{j}"}
            )
            latencies.append(time.perf_counter() - started)
            codes[response.status_code] = codes.get(response.status_code, 0) + 1


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def run(clients: int, per_client: int, workers: int) -> dict[str, Any]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    keys = await setup(schema, clients, per_client + WARMUP // clients + 1)
    port = _free_port()
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            schema,
            "--port",
            str(port),
            "--workers",
            f"{workers}",
        ],
        env=dict(os.environ, PYTHONPATH=os.getcwd()),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                async with httpx.AsyncClient(base_url=base) as probe:
                    await probe.get("/docs")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        firms = sorted(keys)
        # warm-up: the first bookings of each firm (connections, caches), not measured
        warm: list[float] = []
        warm_codes: dict[int, int] = {}
        per_warm = WARMUP // clients + 1
        await asyncio.gather(
            *(
                client_run(
                    base,
                    f,
                    keys[f],
                    manifests=range(per_warm),
                    offset=i * 7,
                    latencies=warm,
                    codes=warm_codes,
                )
                for i, f in enumerate(firms)
            )
        )
        latencies: list[float] = []
        codes: dict[int, int] = {}
        started = time.perf_counter()
        await asyncio.gather(
            *(
                client_run(
                    base,
                    f,
                    keys[f],
                    manifests=range(per_warm, per_warm + per_client),
                    offset=i * 7,
                    latencies=latencies,
                    codes=codes,
                )
                for i, f in enumerate(firms)
            )
        )
        elapsed = time.perf_counter() - started
    finally:
        child.terminate()
        child.wait(30)
        admin = create_async_engine(PG_URL)
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()
    booked = codes.get(201, 0)
    return {
        "clients": clients,
        "api_workers": workers,
        "requests": len(latencies),
        "booked": booked,
        "status_codes": {str(k): v for k, v in sorted(codes.items())},
        "warmup_status_codes": {str(k): v for k, v in sorted(warm_codes.items())},
        "seconds": round(elapsed, 2),
        "bookings_per_s": round(booked / elapsed, 1),
        "p50_ms": round(_pct(latencies, 50) * 1000, 1),
        "p99_ms": round(_pct(latencies, 99) * 1000, 1),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the bookings")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--bookings", type=int, default=4000, help="measured, in all")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--serve", metavar="SCHEMA", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.workers)
        return
    total = args.bookings // 4 if args.quick else args.bookings
    figures = asyncio.run(run(args.clients, max(1, total // args.clients), args.workers))
    passed = {
        "bookings_per_s": figures["bookings_per_s"] >= TARGETS["bookings_per_s_min"],
        "p99_ms": figures["p99_ms"] <= TARGETS["p99_ms_max"],
        "no_errors": set(figures["status_codes"]) == {"201"},
    }
    print(
        f"bookings  {figures['booked']} in {figures['seconds']} s by {figures['clients']} clients: "
        f"{figures['bookings_per_s']}/s, p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms "
        f"(status codes {figures['status_codes']})"
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
