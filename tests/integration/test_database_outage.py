"""PostgreSQL's connections are terminated under the decider mid-stream (a failover, a DBA,
a restart): nothing is lost. Every read is recorded, every truck gets exactly one decision,
and every decision reaches the topic. Part of the fault suite (`make faults`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.db.engine import application_name
from services.db.tables import DecisionRow, PlateReadRow
from services.runtime.settings import DatabaseSettings
from streams.topics import LANE_DECISIONS
from tests.conftest import POSTGRES_URL
from tests.integration.harness import (
    as_message,
    collect,
    decision_payloads,
    fresh_broker,
    make_settings,
    manifest,
    publish,
    read,
    running_system,
    seed,
    wait_until,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.faults,
    pytest.mark.timeout(120),
]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TRUCKS = 30


async def _terminate_backends(database: DatabaseSettings) -> int:
    """Terminate the system's own connections to the test database (found by their
    application_name), not those of another suite sharing the server."""
    admin = create_async_engine(POSTGRES_URL)
    try:
        async with admin.begin() as conn:
            killed = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND application_name = :name"
                ),
                {"name": application_name(database)},
            )
    finally:
        await admin.dispose()
    return int(killed or 0)


async def _handled(system: Any, n: int) -> bool:
    """The decider's runtime handled `n` reads (counted after its transaction committed)."""
    return bool(system.runtime.stats.handled >= n)


async def test_connections_terminated_mid_stream_lose_nothing(tmp_path: Path) -> None:
    schema = f"bf_fault_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    database = DatabaseSettings(url=POSTGRES_URL, schema_name=schema)
    plates = [f"29H{i:05d}" for i in range(TRUCKS)]
    killed = 0
    try:
        async with fresh_broker(tmp_path) as broker:
            settings = make_settings(broker.bootstrap, database, tmp_path)
            async with running_system(settings) as system:
                await seed(
                    system.infra,
                    *(manifest(f"MF-{i}", p) for i, p in enumerate(plates)),
                    now=T0,
                )
                for chunk in range(3):
                    messages = [
                        as_message(read(f"r-{i}", p, T0 + timedelta(minutes=i)))
                        for i, p in enumerate(plates)
                        if i % 3 == chunk
                    ]
                    await publish(broker.bootstrap, *messages)
                    killed += await _terminate_backends(database)
                    # the decider meets the dead connections: this chunk is stored all the same
                    # (awaited, not a fixed pause, so a loaded machine cannot skip a chunk)
                    stored = sum(1 for i in range(len(plates)) if i % 3 <= chunk)
                    await wait_until(lambda n=stored: _handled(system, n), timeout=60)
                got = await collect(
                    broker.bootstrap, LANE_DECISIONS.name, expect=TRUCKS, timeout=60
                )
                async with system.infra.sessions() as session:
                    reads = await session.scalar(select(func.count()).select_from(PlateReadRow))
                    decisions = await session.scalar(select(func.count()).select_from(DecisionRow))
    finally:
        admin = create_async_engine(POSTGRES_URL)
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()
    assert killed >= 3  # the decider's connections were there to kill, each time
    assert reads == TRUCKS
    assert decisions == TRUCKS
    payloads = decision_payloads(got)
    assert {d["visit_id"] for d in payloads} == {d["visit_id"] for d in payloads[:TRUCKS]}
    assert sorted(r for d in payloads for r in d["read_event_ids"])[:TRUCKS] == sorted(
        {f"r-{i}" for i in range(TRUCKS)}
    )
    assert len({d["decision_id"] for d in payloads}) == TRUCKS  # one per truck
