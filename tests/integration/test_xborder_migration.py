"""Revision 0015 on a database that already holds crossings (SQLite and PostgreSQL): each
gets its latest event time and its mismatch flag, computed by the code that keeps them
current, so the control room's bounded reads find them; and it reverts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.db.engine import create_engine, session_factory
from services.db.migrate import to_revision as _to
from services.db.types import UTCDateTime
from services.runtime.settings import DatabaseSettings
from services.xborder import store as xstore

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
TRUCK: dict[str, object] = {"tractor_plate": "29H12345", "trailer_plate": None, "containers": []}


async def test_existing_crossings_get_their_clock_and_mismatch(
    database_settings: DatabaseSettings,
) -> None:
    engine = create_engine(database_settings)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to("0014"))
            old = sa.table(
                "xborder_crossings",
                *(sa.column(c) for c in ("crossing_id", "from_side")),
                *(sa.column(f"{f}_message_id") for f in ("exit", "entry")),
                *(sa.column(f"{f}_at", UTCDateTime()) for f in ("exit", "entry")),
                *(sa.column(f"{f}_truck", sa.JSON) for f in ("exit", "entry")),
            )
            rows = [
                ("as-announced", TRUCK, T0 + timedelta(minutes=40)),
                ("other-plate", {**TRUCK, "tractor_plate": "29H99999"}, T0 + timedelta(hours=1)),
                ("not-entered", None, None),
            ]
            for crossing_id, entry, entered in rows:
                await conn.execute(
                    old.insert().values(
                        crossing_id=crossing_id,
                        from_side="VN",
                        exit_message_id=f"VN:{crossing_id}",
                        exit_at=T0,
                        exit_truck=TRUCK,
                        entry_message_id=None if entry is None else f"CN:{crossing_id}",
                        entry_at=entered,
                        entry_truck=entry,
                    )
                )
            await conn.run_sync(_to("0015"))
        async with session_factory(engine)() as session:
            candidates = {c.crossing_id for c in await xstore.alert_candidates(session)}
            assert candidates == {"other-plate", "not-entered"}
            # the second latest crossing's time (lanes.crossings.crossings_clock)
            assert await xstore.gate_clock(session) == T0 + timedelta(minutes=40)
        async with engine.begin() as conn:
            await conn.run_sync(_to("0014", down=True))
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in sa.inspect(c).get_columns("xborder_crossings")}
            )
        assert "last_at" not in columns and "mismatch" not in columns
    finally:
        await engine.dispose()
