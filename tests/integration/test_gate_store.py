"""The stored gate follows its config file, and revision 0004 gives manifests their customs
channel (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.model import CustomsChannel, Direction, Manifest
from services.bootstrap import prepare_database
from services.db.convert import manifest_from_row
from services.db.engine import create_engine, session_factory
from services.db.manifests import store_manifests
from services.db.migrate import to_revision as _to
from services.db.tables import LaneRow, ManifestRow
from services.db.types import UTCDateTime
from services.gates.loader import default_gates, get_gate
from services.runtime.settings import DatabaseSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _columns(connection: Connection) -> set[str]:
    return {c["name"] for c in sa.inspect(connection).get_columns("manifests")}


async def test_revision_0004_adds_the_channel_to_existing_manifests(
    database_settings: DatabaseSettings,
) -> None:
    engine = create_engine(database_settings)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to("0003"))
            assert "customs_channel" not in await conn.run_sync(_columns)
            old = sa.table(
                "manifests",
                *(sa.column(c) for c in ("manifest_id", "firm_id", "direction")),
                *(sa.column(c) for c in ("tractor_plate", "cargo_description", "perishable")),
                *(sa.column(c) for c in ("customs_status", "source")),
                sa.column("containers", sa.JSON),
                sa.column("created_at", UTCDateTime()),
                sa.column("updated_at", UTCDateTime()),
            )
            await conn.execute(
                old.insert().values(
                    manifest_id="MF-OLD",
                    firm_id="firm-01",
                    direction="export",
                    tractor_plate="29H12345",
                    cargo_description="rice",
                    perishable=False,
                    customs_status="inspect",
                    source="import",
                    containers=[],
                    created_at=T0,
                    updated_at=T0,
                )
            )
        await prepare_database(engine, default_gates())  # to head

        sessions = session_factory(engine)
        async with sessions() as session:
            row = await session.get(ManifestRow, "MF-OLD")
            assert row is not None
            assert row.customs_channel is None
            assert manifest_from_row(row).customs_channel is None
        red = Manifest(
            "MF-RED", "firm-01", Direction.IMPORT, "12C12345", customs_channel=CustomsChannel.RED
        )
        async with sessions() as session, session.begin():
            await store_manifests(session=session, manifests=[red], source="import", now=T0)
        async with sessions() as session:
            row = await session.get(ManifestRow, "MF-RED")
            assert row is not None
            assert manifest_from_row(row) == red

        async with engine.begin() as conn:
            await conn.run_sync(_to("0003", down=True))
            assert "customs_channel" not in await conn.run_sync(_columns)
        await prepare_database(engine, default_gates())  # and up again
    finally:
        await engine.dispose()


async def _lanes(engine: AsyncEngine) -> dict[str, LaneRow]:
    async with session_factory(engine)() as session:
        rows = await session.scalars(select(LaneRow).where(LaneRow.gate_id == "huu-nghi"))
        return {row.lane_id: row for row in rows}


async def test_the_stored_lanes_follow_the_config_and_keep_their_state(
    engine: AsyncEngine,
) -> None:
    gate = get_gate("huu-nghi")
    stored = await _lanes(engine)
    assert sorted(stored) == sorted(lane.lane_id for lane in gate.lanes)
    mean = int(gate.lanes[0].service_time.total_seconds())  # HN-E1, from the gate file
    assert (stored["HN-E1"].kind, stored["HN-E1"].service_seconds) == ("standard", mean)
    assert (stored["HN-I9"].kind, stored["HN-I9"].service_seconds) == ("inspection", 720)

    # what an older configuration left: HN-E3 a scanner of 6 min, closed and busy, and a lane
    # the configuration no longer has
    async with session_factory(engine)() as session, session.begin():
        await session.execute(
            sa.update(LaneRow)
            .where(LaneRow.lane_id == "HN-E3")
            .values(kind="scanner", service_seconds=360, is_open=False, free_at=T0)
        )
        session.add(
            LaneRow(
                lane_id="HN-E99",
                gate_id="huu-nghi",
                direction="export",
                kind="standard",
                service_seconds=600,
                is_open=True,
            )
        )
    await prepare_database(engine, default_gates())

    stored = await _lanes(engine)
    assert "HN-E99" not in stored
    e3 = stored["HN-E3"]
    assert (e3.kind, e3.service_seconds, e3.is_open, e3.free_at) == ("standard", mean, False, T0)

    renamed = replace(gate, name="Huu Nghi")
    await prepare_database(engine, {renamed.gate_id: renamed})
    async with session_factory(engine)() as session:
        name = await session.scalar(sa.text("SELECT name FROM gates WHERE gate_id = 'huu-nghi'"))
    assert name == "Huu Nghi"
