"""The live path through the real broker and the real database (SQLite and PostgreSQL):
reads -> visit -> match -> lane -> decision, persisted and published."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lanes.model import CustomsStatus, Direction
from services.db.tables import DecisionRow, PlateReadRow, VisitRow
from services.runtime.settings import DatabaseSettings
from streams.topics import LANE_DECISIONS
from tests.integration.harness import (
    collect,
    collect_to_end,
    decision_payloads,
    envelope,
    fresh_broker,
    make_settings,
    manifest,
    publish,
    read,
    running_system,
    seed,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def _count(infra, model) -> int:  # type: ignore[no-untyped-def]
    async with infra.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_reads_of_one_truck_become_one_assigned_decision(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await seed(system.infra, manifest("MF-1", "29H12345"), now=T0)
            approach = read("r-1", "29H-123.45", T0, camera="hn-exp-approach-1")
            gate_1 = read("r-2", "29H12345", T0 + timedelta(seconds=40))
            gate_2 = read("r-3", "29h 123.45", T0 + timedelta(seconds=42))
            await publish(
                broker.bootstrap,
                ("hn-exp-approach-1", json.dumps(envelope(approach)).encode()),
                ("hn-exp-gate-1", json.dumps(gate_1).encode()),  # plain JSON, no envelope
                ("hn-exp-gate-1", json.dumps(envelope(gate_2)).encode()),
            )
            records = await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1)
            await wait_until(lambda: _reads_at_least(system.infra, 3))

            decisions = decision_payloads(records)
            assert len(decisions) == 1
            decision = decisions[0]
            assert decision["outcome"] == "assigned"
            assert decision["manifest_id"] == "MF-1"
            assert decision["plate"] == "29H12345"
            assert decision["lane_id"] in {f"HN-E{n}" for n in range(1, 7)}  # a standard lane
            assert set(decision["read_event_ids"]) <= {"r-1", "r-2", "r-3"}
            assert records[0].key == decision["visit_id"].encode()
            assert await _count(system.infra, VisitRow) == 1
            # the outbox marks a sent decision in the next batch's transaction or when idle
            await wait_until(lambda: _published(system.infra))
            async with system.infra.sessions() as session:
                visit = await session.scalar(select(VisitRow))
            assert visit is not None and visit.read_count == 3


async def _published(infra) -> bool:  # type: ignore[no-untyped-def]
    async with infra.sessions() as session:
        row = await session.scalar(select(DecisionRow))
    return row is not None and row.published_at is not None


async def _reads_at_least(infra, n: int) -> bool:  # type: ignore[no-untyped-def]
    return await _count(infra, PlateReadRow) >= n


async def test_outcomes_unknown_pending_inspect_hazmat(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await seed(
                system.infra,
                manifest("MF-P", "29H11111", customs=CustomsStatus.PENDING),
                manifest("MF-I", "29H22222", customs=CustomsStatus.INSPECT),
                manifest("MF-H", "29H33333", hazmat="3"),
                manifest("MF-C", "桂A12345", direction=Direction.IMPORT),
                now=T0,
            )
            reads = [
                read("u-1", "51C-999.99", T0),
                read("p-1", "29H-111.11", T0),
                read("i-1", "29H-222.22", T0),
                read("h-1", "29H-333.33", T0),
                read("c-1", "桂A·12345", T0, camera="hn-exp-gate-2"),  # import plate at export
            ]
            await publish(broker.bootstrap, *[("cam", json.dumps(r).encode()) for r in reads])
            records = await collect(broker.bootstrap, LANE_DECISIONS.name, expect=5)
            by_plate = {d["plate"]: d for d in decision_payloads(records)}
            assert by_plate["51C99999"]["outcome"] == "needs_review"
            assert by_plate["51C99999"]["match_outcome"] == "unknown"
            assert by_plate["29H11111"]["outcome"] == "needs_review"
            assert "pending" in by_plate["29H11111"]["reason"]
            assert by_plate["29H22222"]["lane_id"] in {"HN-E9", "HN-E10", "HN-E11"}  # inspection
            assert by_plate["29H33333"]["lane_id"] == "HN-E12"  # the hazmat lane
            assert by_plate["桂A12345"]["match_outcome"] == "mismatch"
            assert by_plate["桂A12345"]["outcome"] == "needs_review"


async def test_redelivered_read_changes_nothing(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await seed(system.infra, manifest("MF-1", "29H12345"), now=T0)
            value = json.dumps(read("dup-1", "29H12345", T0)).encode()
            await publish(broker.bootstrap, ("hn-exp-gate-1", value))
            await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1)
            await publish(broker.bootstrap, ("hn-exp-gate-1", value), ("hn-exp-gate-1", value))
            await wait_until(lambda: _handled(system, 3))
            assert await _count(system.infra, PlateReadRow) == 1
            assert await _count(system.infra, DecisionRow) == 1
            assert system.decider.stats.duplicates == 2
            records = await collect_to_end(broker.bootstrap, LANE_DECISIONS.name)
            assert len(records) == 1


async def _handled(system, n: int) -> bool:  # type: ignore[no-untyped-def]
    return bool(system.runtime.stats.handled >= n)
