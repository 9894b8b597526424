"""Events per truck and bytes per event, measured from a simulated day (the capacity plan in
deploy/README.md is worked out from these).

The traffic simulator's day (`services.simulation.plan.plan_traffic`, the one `make demo`
plays) goes through the real decider on the embedded broker and SQLite; then every record on
`borderflow.plate-reads` and `borderflow.lane-decisions` is read back and weighed as Kafka
stores it before compression (value + key + headers); and the database's size per truck
(SQLite file: reads, visits, decisions, manifests and indexes).

    .venv/bin/python -m bench.event_sizes [--trucks 1000] [--seed 1]

Ends with one line of JSON: the figures (issue 9 sets no numeric target for them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer

from services.bootstrap import build_decider, infrastructure
from services.runtime.settings import DatabaseSettings, KafkaSettings, Settings
from services.simulation.plan import plan_traffic
from services.simulation.traffic import publish_reads, seed_manifests
from streams.topics import LANE_DECISIONS, PLATE_READS


def _size(record: Any) -> int:
    headers = sum(len(k) + len(v or b"") for k, v in record.headers or ())
    return len(record.value or b"") + len(record.key or b"") + headers


async def _read_all(bootstrap: str, topic: str, expect: int) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(60):
            while len(records) < expect:
                for part in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(part)
    finally:
        await consumer.stop()
    return records


def _describe(sizes: list[int]) -> dict[str, float]:
    ordered = sorted(sizes)
    return {
        "count": len(sizes),
        "mean_bytes": round(statistics.fmean(sizes), 1),
        "p95_bytes": ordered[int(0.95 * (len(ordered) - 1))],
        "max_bytes": ordered[-1],
    }


async def measure(trucks: int, seed: int, var_dir: Path) -> dict[str, Any]:
    settings = Settings(
        var_dir=var_dir,
        database=DatabaseSettings(url=f"sqlite+aiosqlite:///{var_dir / 'bench.db'}"),
        kafka=KafkaSettings(session_timeout_ms=2000, heartbeat_interval_ms=500),
    )
    async with infrastructure(settings) as infra:
        decider, runtime = build_decider(infra)
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop))
        await asyncio.wait_for(runtime.ready.wait(), timeout=30)
        start = datetime(2026, 11, 23, tzinfo=UTC)
        plan = plan_traffic(
            gate=infra.gates[settings.gate_id], trucks=trucks, start=start, seed=seed
        )
        await seed_manifests(infra.sessions, plan.manifests, now=start)
        began = time.perf_counter()
        await publish_reads(infra.producer, plan.reads, speedup=0, sim_start=start)
        while runtime.stats.handled + runtime.stats.dead_lettered < len(plan.reads):
            await asyncio.sleep(0.1)
        await decider.publish_outbox()
        elapsed = time.perf_counter() - began
        stop.set()
        await task
        reads = await _read_all(infra.bootstrap, PLATE_READS.name, len(plan.reads))
        decisions = await _read_all(infra.bootstrap, LANE_DECISIONS.name, decider.stats.visits)
    return {
        "trucks": trucks,
        "seed": seed,
        "reads_per_truck": round(len(reads) / trucks, 3),
        "decisions_per_truck": round(len(decisions) / trucks, 3),
        "plate_read": _describe([_size(r) for r in reads]),
        "lane_decision": _describe([_size(r) for r in decisions]),
        "dead_lettered": runtime.stats.dead_lettered,
        "decider_sqlite_reads_per_s": round(len(reads) / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trucks", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(measure(args.trucks, args.seed, Path(tmp)))
        stored = sum(p.stat().st_size for p in Path(tmp).glob("bench.db*"))
        figures["sqlite_bytes_per_truck"] = round(stored / args.trucks)
    for key, value in figures.items():
        print(f"{key:>28}: {value}")
    print(json.dumps({"bench": "event_sizes", "figures": figures, "targets": None}))


if __name__ == "__main__":
    main()
