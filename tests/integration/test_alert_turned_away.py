"""A truck an alert held and a controller turned away, as the alert's row keeps it
(`alerts.released_as`, migration 0026) on SQLite and PostgreSQL: what the control room's
API shows of the alert and its `turned_away` event on `borderflow.alerts`; the use case on
the memory adapters: tests/unit/test_gate_handlers.py. Until 2026-12-06 late a turned-away
truck's alert still said "truck held"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.alerts import Alert, Severity
from services.adapters.sql_gate import SqlControlStore
from services.alerts import store as alerts
from services.db.engine import session_factory
from streams.alerts import AlertV1

pytestmark = [pytest.mark.integration]

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
WALL = datetime(2030, 1, 1, tzinfo=UTC)


async def test_a_held_truck_turned_away_is_kept_and_shown_on_its_alert(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    swap = Alert("a-1", "swap", Severity.HIGH, "manifest:MF-1", "huu-nghi", T0, "x", (), True)
    async with sessions() as session, session.begin():
        await alerts.insert_new(session=session, alerts=[swap], now=WALL)
        await alerts.set_held(session=session, alert_id="a-1", visit_id="v-1")
        store = SqlControlStore(session)
        (views,) = await store.release_holds(
            "v-1", by="ana", reason="seal broken", at=T0, ended="turned_away"
        )
    event = AlertV1(**views.wire)
    assert (event.change, event.released_as, event.changed_by) == (
        "turned_away",
        "turned_away",
        "ana",
    )
    async with sessions() as session:  # as stored
        row = await alerts.get_alert(session=session, alert_id="a-1")
        assert row is not None
        shown = alerts.row_json(row)
    assert (shown["released_as"], shown["released_by"], shown["release_reason"]) == (
        "turned_away",
        "ana",
        "seal broken",
    )
    assert datetime.fromisoformat(shown["released_at"]) == T0
    async with sessions() as session, session.begin():  # held again: the turn-away is over
        await alerts.set_held(session=session, alert_id="a-1", visit_id="v-2")
        row = await alerts.get_alert(session=session, alert_id="a-1")
        assert row is not None
        assert alerts.row_json(row)["released_as"] is None
