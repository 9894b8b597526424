"""Revision 0002 on a database that already holds manifests (SQLite and PostgreSQL): they get
version 1, a history row and their plate keys, so the matcher finds them; and it reverts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from lanes.similarity import index_keys
from services.bootstrap import prepare_database
from services.db.engine import create_engine, session_factory
from services.db.manifests import manifests_for_keys
from services.db.migrate import to_revision as _to
from services.db.tables import ManifestRow, ManifestVersionRow
from services.db.types import UTCDateTime
from services.gates.loader import default_gates
from services.runtime.settings import DatabaseSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def test_existing_manifests_are_versioned_and_indexed(
    database_settings: DatabaseSettings,
) -> None:
    engine = create_engine(database_settings)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to("0001"))
            old = sa.table(
                "manifests",
                *(sa.column(c) for c in ("manifest_id", "firm_id", "direction")),
                *(sa.column(c) for c in ("tractor_plate", "trailer_plate", "cargo_description")),
                *(sa.column(c) for c in ("perishable", "hazmat_class", "customs_status")),
                sa.column("containers", sa.JSON),
                sa.column("created_at", UTCDateTime()),
            )
            await conn.execute(
                old.insert().values(
                    manifest_id="MF-OLD",
                    firm_id="firm-01",
                    direction="export",
                    tractor_plate="29H12345",
                    trailer_plate="29R01234",
                    cargo_description="rice",
                    perishable=False,
                    hazmat_class=None,
                    customs_status="cleared",
                    containers=["CSQU3054383"],
                    created_at=T0,
                )
            )
        await prepare_database(engine, default_gates())  # to head

        async with session_factory(engine)() as session:
            row = await session.get(ManifestRow, "MF-OLD")
            history = (await session.scalars(select(ManifestVersionRow))).all()
            found = await manifests_for_keys(
                session=session, keys=index_keys("29R01234"), ended_after=T0
            )
        assert row is not None
        assert (row.version, row.source, row.updated_at, row.hs_codes) == (
            1,
            "simulator",
            T0,
            [],
        )
        assert [(h.manifest_id, h.version, h.payload["containers"]) for h in history] == [
            ("MF-OLD", 1, ["CSQU3054383"])
        ]
        assert [m.manifest_id for m in found] == ["MF-OLD"]

        async with engine.begin() as conn:
            await conn.run_sync(_to("0001", down=True))
        await prepare_database(engine, default_gates())  # and up again
    finally:
        await engine.dispose()
