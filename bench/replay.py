"""Benchmark of replay (issue 7): a simulated full day at 3,000 trucks is recorded into an
event archive (SQLite; every plate read as the simulator publishes it, the manifests as the
simulator seeds them), then replayed from that archive through the live decision code with
the gate's state in memory, as `borderflow replay` does: events/s and wall time, best of
two runs. With `--database`, the same archive is also replayed twice on the SQLite sandbox
database (the replay before issue 26 item 4) in the same process, for the ratio, and the
decision files of the two ways are compared byte for byte. No batch boundaries are recorded
(no live decider ran), so the reads replay in archive order, `--batch` a batch (500: the
consumer's batch size; a few reads a batch is what a live recording has).

Targets (issue 7): a full day in under 10 s and >= 50,000 events/s. Ends with one JSON line
of the figures and the targets.

    python bench/replay.py [--trucks N] [--seed N] [--batch N] [--days N] [--runs N] [--database]
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

from services.adapters.memory_gate import KEEP
from services.archive.store import archive, records_in_range
from services.bootstrap import prepare_database
from services.db.engine import create_engine, session_factory
from services.gates.loader import default_gates, get_gate
from services.replay import compare, inputs
from services.replay.run import ProgressLine
from services.replay.sandbox import run_sandbox
from services.replay.whatif import recorded
from services.runtime.settings import DatabaseSettings
from services.simulation.traffic import archived_reads, plan_traffic, seed_manifests

TARGETS = {"full_day_wall_s_max": 10.0, "events_per_s_min": 50_000}
START = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 00:00 local at Huu Nghi


async def record(db: Path, *, trucks: int, seed: int, days: int = 1) -> int:
    """The simulated days into a fresh archive database (day k planned with its own seed,
    its manifests seeded an hour before it starts); returns the events recorded."""
    gates = default_gates()
    engine = create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{db}"))
    try:
        await prepare_database(engine, gates)
        sessions = session_factory(engine)
        events = 0
        for day in range(days):
            start = START + timedelta(days=day)
            plan = plan_traffic(
                gate=get_gate("huu-nghi", gates),
                trucks=trucks,
                start=start,
                seed=seed if day == 0 else seed * 100_000 + day,
            )
            await seed_manifests(sessions, plan.manifests, now=start - timedelta(hours=1))
            rows = archived_reads(plan.reads)
            async with sessions() as session, session.begin():
                for i in range(0, len(rows), 2_000):
                    await archive(session=session, records=rows[i : i + 2_000])
            events += len(rows)
        return events
    finally:
        await engine.dispose()


async def replay_day(
    db: Path, *, batch: int, database: bool = False, days: int = 1
) -> tuple[int, int, float, float, str, str]:
    gates = default_gates()
    started = time.perf_counter()
    engine = create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{db}"))
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            records = await records_in_range(
                session=session,
                start=START - timedelta(days=1),
                end=START + timedelta(days=days + 1),
            )
            manifests = await inputs.manifest_versions(session=session)
    finally:
        await engine.dispose()
    loaded = inputs.assemble(records, [], manifests, fallback_batch=batch)
    load_s = time.perf_counter() - started
    result = await run_sandbox(
        loaded,
        gates=gates,
        policy=recorded(gates).policy,
        progress=ProgressLine(sys.stderr),
        database=database,
        keep=KEEP,  # the simulated days hold no read a day late: long runs in bounded state
    )
    wall = time.perf_counter() - started
    text = "".join(inputs.decision_line(d) + "\n" for d in result.decisions)
    assigned = sum(d["outcome"] == "assigned" for d in compare.latest(result.decisions).values())
    alerts = "".join(json.dumps(a, sort_keys=True, default=str) + "\n" for a in result.alerts)
    return loaded.events, assigned, load_s, wall, text, alerts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trucks", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=inputs.FALLBACK_BATCH)
    parser.add_argument("--days", type=int, default=1, help="simulated days one after another")
    parser.add_argument("--runs", type=int, default=2, help="replays (the best one counts)")
    parser.add_argument(
        "--database", action="store_true", help="also replay on the SQLite sandbox (the ratio)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "archive.db"
        t0 = time.perf_counter()
        events = asyncio.run(record(db, trucks=args.trucks, seed=args.seed, days=args.days))
        record_s = time.perf_counter() - t0
        print(
            f"recorded  {events:,} plate reads of {args.trucks:,} trucks a day, "
            f"{args.days} day(s), in {record_s:.1f} s"
        )
        runs = [
            asyncio.run(replay_day(db, batch=args.batch, days=args.days))
            for _ in range(max(args.runs, 1))
        ]
        on_db = [
            asyncio.run(replay_day(db, batch=args.batch, database=True))
            for _ in range(2 if args.database else 0)
        ]
    events, assigned, load_s, _, first, alerts = runs[0]
    walls = [r[3] for r in runs]
    best = min(walls)
    rate = events / best
    identical = all(r[4] == first and r[5] == alerts for r in runs)
    print(f"replayed  {events:,} events, {assigned:,} trucks assigned; load {load_s:.2f} s")
    shown = " and ".join(f"{w:.2f} s" for w in walls)
    print(f"wall      {shown} (best {best:.2f} s); {rate:,.0f} events/s")
    print(f"decision and alert files of the {len(runs)} run(s) byte-identical: {identical}")
    digest = hashlib.sha256(first.encode()).hexdigest()
    alerts_digest = hashlib.sha256(alerts.encode()).hexdigest()
    print(f"decisions {first.count(chr(10)):,} lines, sha256 {digest}")
    print(f"alerts    {alerts.count(chr(10)):,} lines, sha256 {alerts_digest}")
    database: dict[str, object] = {}
    if on_db:
        db_best = min(r[3] for r in on_db)
        same = all(r[4] == first and r[5] == alerts for r in on_db)
        print(
            f"database  {on_db[0][3]:.2f} s and {on_db[1][3]:.2f} s (best {db_best:.2f} s); "
            f"{events / db_best:,.0f} events/s; memory is {db_best / best:.1f}x faster"
        )
        print(f"decision and alert files on the database and in memory identical: {same}")
        database = {
            "database_wall_s": round(db_best, 3),
            "database_events_per_s": round(events / db_best),
            "database_byte_identical": same,
        }
    passed = {
        "full_day_wall_s": best < TARGETS["full_day_wall_s_max"],
        "events_per_s": rate >= TARGETS["events_per_s_min"],
    }
    for key, ok in passed.items():
        print(f"target    {key:18s} {'PASS' if ok else 'FAIL'}")
    figures = {
        "trucks": args.trucks,
        "days": args.days,
        "events": events,
        "batch": args.batch,
        "wall_s": round(best, 3),
        "load_s": round(load_s, 3),
        "events_per_s": round(rate),
        "byte_identical": identical,
        "decisions_sha256": digest,
        "alerts_sha256": alerts_digest,
        **database,
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
