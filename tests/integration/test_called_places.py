"""The calls the call-forward worker writes for the gate's decider (`called_places`,
services/db/called.py), on SQLite and PostgreSQL: each manifest's latest call, kept past
its truck's arrival, withdrawn otherwise, forgotten an hour after its deadline; what the
decider asks for is bounded by event time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.policy.callforward import CalledPlace
from services.db.called import called_places, save_called
from services.db.engine import session_factory

pytestmark = [pytest.mark.integration]

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
WALL = datetime(2030, 1, 1, tzinfo=UTC)


def call(manifest_id: str, lane: str, n: int, at: datetime) -> CalledPlace:
    return CalledPlace(manifest_id, lane, f"{manifest_id}/call-{n}", at, at + 15 * MIN)


async def test_the_calls_kept_for_the_decider(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)

    async def save(calls: list[CalledPlace], arrived: set[str], purge: datetime | None) -> None:
        async with sessions() as session, session.begin():
            await save_called(
                session=session,
                gate_id="g",
                calls=calls,
                arrived=arrived,
                purge_before=purge,
                now=WALL,
            )

    async def told(since: datetime, until: datetime) -> dict[str, str]:
        async with sessions() as session:
            found = await called_places(session=session, gate_id="g", since=since, until=until)
        return {p.manifest_id: f"{p.lane_id} {p.call_id}" for p in found}

    await save([call("A", "L1", 1, T0), call("B", "L2", 1, T0)], set(), None)
    assert await told(T0, T0) == {"A": "L1 A/call-1", "B": "L2 B/call-1"}
    assert await told(T0 - MIN, T0 - MIN) == {}  # not made yet
    # A reached the gate; B recalled to L3
    await save([call("B", "L3", 2, T0 + 16 * MIN)], {"A"}, T0 - 60 * MIN)
    assert await told(T0 + 16 * MIN, T0 + 16 * MIN) == {"A": "L1 A/call-1", "B": "L3 B/call-2"}
    # B lost its place (no longer called, never arrived): withdrawn; A kept
    await save([], set(), T0 - 30 * MIN)
    assert await told(T0, T0 + 40 * MIN) == {"A": "L1 A/call-1"}
    # more than half an hour past A's deadline, a truck reaching the gate is not its
    assert await told(T0 + 46 * MIN, T0 + 46 * MIN) == {}
    # an hour past its deadline, forgotten
    await save([], set(), T0 + 16 * MIN)
    assert await told(T0, T0 + 40 * MIN) == {}
