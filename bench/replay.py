"""Benchmark of replay (issue 7): a simulated full day at 3,000 trucks is recorded into an
event archive (SQLite; every plate read as the simulator publishes it, the manifests as the
simulator seeds them), then replayed from that archive through the live decision code in a
sandbox database, as `borderflow replay` does: events/s and wall time. No batch boundaries
are recorded (no live decider ran), so the reads replay in archive order, 500 a batch (the
consumer's batch size).

Targets (issue 7): a full day in under 10 s and >= 50,000 events/s. Ends with one JSON line
of the figures and the targets.

    python bench/replay.py [--trucks N] [--seed N] [--batch N]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.archive.store import archive, records_in_range
from services.bootstrap import prepare_database
from services.config import DatabaseSettings
from services.db.engine import create_engine, session_factory
from services.gate_config import default_gates, get_gate
from services.replay import compare, inputs
from services.replay.run import ProgressLine
from services.replay.sandbox import run_sandbox
from services.replay.whatif import recorded
from services.simulator import archived_reads, plan_traffic, seed_manifests

TARGETS = {"full_day_wall_s_max": 10.0, "events_per_s_min": 50_000}
START = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 00:00 local at Huu Nghi


async def record(db: Path, *, trucks: int, seed: int) -> int:
    """The simulated day into a fresh archive database; returns the events recorded."""
    gates = default_gates()
    plan = plan_traffic(gate=get_gate("huu-nghi", gates), trucks=trucks, start=START, seed=seed)
    engine = create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{db}"))
    try:
        await prepare_database(engine, gates)
        sessions = session_factory(engine)
        await seed_manifests(sessions, plan.manifests, now=START - timedelta(hours=1))
        rows = archived_reads(plan.reads)
        async with sessions() as session, session.begin():
            for i in range(0, len(rows), 2_000):
                await archive(session=session, records=rows[i : i + 2_000])
        return len(rows)
    finally:
        await engine.dispose()


async def replay_day(db: Path, *, batch: int) -> tuple[int, int, float, float, str]:
    gates = default_gates()
    started = time.perf_counter()
    engine = create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{db}"))
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            records = await records_in_range(
                session=session, start=START - timedelta(days=1), end=START + timedelta(days=2)
            )
            manifests = await inputs.manifest_versions(session=session)
    finally:
        await engine.dispose()
    loaded = inputs.assemble(records, [], manifests, fallback_batch=batch)
    load_s = time.perf_counter() - started
    result = await run_sandbox(
        loaded, gates=gates, policy=recorded(gates).policy, progress=ProgressLine(sys.stderr)
    )
    wall = time.perf_counter() - started
    text = "".join(inputs.decision_line(d) + "\n" for d in result.decisions)
    assigned = sum(d["outcome"] == "assigned" for d in compare.latest(result.decisions).values())
    return loaded.events, assigned, load_s, wall, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trucks", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=inputs.FALLBACK_BATCH)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "archive.db"
        t0 = time.perf_counter()
        events = asyncio.run(record(db, trucks=args.trucks, seed=args.seed))
        record_s = time.perf_counter() - t0
        print(f"recorded  {events:,} plate reads of {args.trucks:,} trucks in {record_s:.1f} s")
        runs = [asyncio.run(replay_day(db, batch=args.batch)) for _ in range(2)]
    (events, assigned, load_s, wall, first), (_, _, _, wall2, second) = runs
    best = min(wall, wall2)
    rate = events / best
    identical = first == second
    print(f"replayed  {events:,} events, {assigned:,} trucks assigned; load {load_s:.2f} s")
    print(f"wall      {wall:.2f} s and {wall2:.2f} s (best {best:.2f} s); {rate:,.0f} events/s")
    print(f"decision files of the two runs byte-identical: {identical}")
    digest = hashlib.sha256(first.encode()).hexdigest()
    print(f"decisions {first.count(chr(10)):,} lines, sha256 {digest}")
    passed = {
        "full_day_wall_s": best < TARGETS["full_day_wall_s_max"],
        "events_per_s": rate >= TARGETS["events_per_s_min"],
    }
    for key, ok in passed.items():
        print(f"target    {key:18s} {'PASS' if ok else 'FAIL'}")
    figures = {
        "trucks": args.trucks,
        "events": events,
        "batch": args.batch,
        "wall_s": round(best, 3),
        "load_s": round(load_s, 3),
        "events_per_s": round(rate),
        "byte_identical": identical,
        "decisions_sha256": digest,
        "machine": f"{platform.machine()} Python {platform.python_version()}",
    }
    print(
        json.dumps(
            {
                "bench": "replay",
                "figures": figures,
                "targets": TARGETS,
                "pass": {**passed, "all": all(passed.values())},
            }
        )
    )


if __name__ == "__main__":
    main()
