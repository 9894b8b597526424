"""The SQL adapter's record of lane events seen (the lane-event use case's de-duplication):
an event the board refused is unrecorded (`forget_lane_events`), so that its redrive is
applied then; an applied one stays seen. The use case itself is tested on the memory adapter
(tests/unit/test_gate_handlers.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.adapters.sql_gate import sql_gate_stores
from services.db.engine import session_factory

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def _row(event_id: str) -> dict[str, object]:
    return {
        "event_id": event_id,
        "gate_id": "huu-nghi",
        "kind": "truck_left",
        "at": AT,
        "payload": {},
        "received_at": AT,
    }


async def test_a_forgotten_lane_event_is_new_again_and_the_others_stay_seen(
    engine: AsyncEngine,
) -> None:
    stores = sql_gate_stores(session_factory(engine))
    async with stores() as store:
        assert await store.new_lane_events([_row("le-1"), _row("le-2")]) == {"le-1", "le-2"}
        await store.forget_lane_events(["le-2"])
    async with stores() as store:
        assert await store.new_lane_events([_row("le-1"), _row("le-2")]) == {"le-2"}
        await store.forget_lane_events([])
    async with stores() as store:
        assert await store.new_lane_events([_row("le-1"), _row("le-2")]) == set()
