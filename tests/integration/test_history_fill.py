"""The simulated history the benches and `test_bounded_queries` put in the tables
(services/simulation/history.py): on both databases, rows as the decider leaves them, and
none of them still to do (no decision in the outbox, no active booking, no open alert)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db.alert_tables import AlertRow
from services.db.audit import verify_chain
from services.db.booking_tables import BookingEventRow, BookingRow
from services.db.control_tables import AuditRow
from services.db.engine import session_factory
from services.db.manifests import visible_version_seq
from services.db.tables import DecisionRow, ManifestRow, PlateReadRow, PlateTrackRow, VisitRow
from services.gates.loader import default_gates, get_gate
from services.simulation.history import fill_history

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

BEFORE = datetime(2026, 11, 23, tzinfo=UTC)


async def test_two_days_of_history_are_stored_and_settled(engine: AsyncEngine) -> None:
    gate = get_gate("huu-nghi", default_gates())
    counts = await fill_history(engine, gate, days=2, before=BEFORE, trucks_per_day=80)
    assert counts.rows["visits"] == counts.rows["lane_decisions"] == 160
    assert counts.rows["plate_reads"] > 2 * 160
    async with session_factory(engine)() as session:

        async def count(*where: object, row: type = DecisionRow) -> int:
            found = await session.scalar(select(func.count()).select_from(row).where(*where))
            return int(found or 0)

        assert await count(row=PlateReadRow) == counts.rows["plate_reads"]
        assert await count(row=VisitRow) == 160
        assert await count(row=PlateTrackRow) == 160
        assert await count(row=ManifestRow) == counts.rows["manifests"]
        assert await visible_version_seq(session) == counts.rows["manifests"]
        assert await count(row=BookingRow) == counts.rows["bookings"] > 0
        assert await count(row=BookingEventRow) == 2 * counts.rows["bookings"]
        assert await count(DecisionRow.published_at.is_(None)) == 0
        assert await count(BookingRow.status == "active", row=BookingRow) == 0
        assert await count(AlertRow.status != "dismissed", row=AlertRow) == 0
        newest = await session.scalar(select(func.max(PlateReadRow.captured_at)))
        assert newest is not None and newest.replace(tzinfo=UTC) <= BEFORE
        # the controllers' actions: holds and each lane's and carrier's changes, chained
        assert await count(AuditRow.action == "hold", row=AuditRow) == 2 * len(range(0, 80, 50))
        assert await count(row=AuditRow) == counts.rows["audit_log"] > 2 * 16 * 30
        verdict = await verify_chain(session=session)
        assert verdict.ok and verdict.entries == counts.rows["audit_log"], verdict
        newest = await session.scalar(select(func.max(AuditRow.at)))
        assert newest is not None and newest.replace(tzinfo=UTC) <= BEFORE
