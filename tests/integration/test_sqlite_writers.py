"""Several writers on one SQLite file (`borderflow up`: the decider, the workers and the API
in one process, each transaction on its own connection). The driver (pysqlite, under
aiosqlite) begins a transaction only before an INSERT, UPDATE or DELETE, so what a
transaction reads before its first write is read outside it: a use case that reads, checks
and writes takes SQLite's write lock first (BEGIN IMMEDIATE: the decider's `begin_write`,
the bookings' `begin_booking_write`, and since 2026-12-06 an alert read for update), as
PostgreSQL's row locks do. Also the demo's seeding, which held the write lock past the
other writers' wait.

(Every transaction beginning IMMEDIATE, services/db/engine.py, was tried the same day and
taken back: `borderflow up --speedup 1200` on a quiet VM then decided 5,257 and 5,619 reads
in 70 s where it decided 7,931 and 9,078 without it, every idle poll of the workers taking
the write lock; docs/architecture.md.)"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lanes.alerts import Alert, Severity
from services.adapters.sql_gate import SqlControlStore, sql_control_stores
from services.alerts import store as alerts
from services.db.control_tables import AuditRow
from services.db.engine import session_factory, transactions
from services.db.tables import ManifestRow
from services.gates.loader import get_gate
from services.ports import AlertState
from services.service_layer.control import (
    AlertChangeRefused,
    AlertStatusChanged,
    ChangeAlertStatus,
    ChangeAlertStatusHandler,
)
from services.simulation.plan import plan_traffic
from services.simulation.traffic import SEED_CHUNK, seed_manifests

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
# How long a transaction that has read gives another writer to commit before it writes:
# only how quickly the test goes; whatever the other writer did by then, neither update
# may be lost.
OTHER_WRITER = 2.0


class _SaysWhenRead(SqlControlStore):
    def __init__(self, session: AsyncSession, read: asyncio.Event) -> None:
        super().__init__(session)
        self.read = read

    async def alert_state(self, alert_id: str) -> AlertState | None:
        found = await super().alert_state(alert_id)
        self.read.set()
        return found


async def test_two_controllers_acknowledging_one_alert_at_once_apply_it_once(
    engine: AsyncEngine,
) -> None:
    """The alert's change (`ChangeAlertStatusHandler`) reads the alert, checks its status and
    writes it: on SQLite the read came before the transaction's first write, outside it, so
    the second controller read 'open' while the first one's change was not committed and
    both were applied (two audit entries 'open -> acknowledged'). Now the read for update
    takes the write lock first, the second waits for the first (as on PostgreSQL, where the
    alert is read FOR UPDATE) and is refused."""
    sessions = session_factory(engine)
    alert = Alert("al-1", "swap", Severity.HIGH, "manifest:MF-1", "huu-nghi", T0, "x", (), True)
    async with sessions() as session, session.begin():
        await alerts.insert_new(session=session, alerts=[alert], now=T0)
    first_announcing, second_read = asyncio.Event(), asyncio.Event()

    async def announce_when_the_other_has_read(_: AlertStatusChanged) -> None:
        first_announcing.set()  # the first change is stored, not committed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(second_read.wait(), OTHER_WRITER)

    async def announce(_: AlertStatusChanged) -> None:
        pass

    def acknowledge(actor: str) -> ChangeAlertStatus:
        return ChangeAlertStatus("al-1", "acknowledge", "acknowledged", actor, "seen", T0)

    first = asyncio.create_task(
        ChangeAlertStatusHandler(uow=sql_control_stores(sessions))(
            acknowledge("ana"), announce=announce_when_the_other_has_read
        )
    )
    await first_announcing.wait()
    second = ChangeAlertStatusHandler(
        uow=transactions(sessions, lambda session: _SaysWhenRead(session, second_read))
    )(acknowledge("bao"), announce=announce)
    outcomes = await asyncio.gather(first, second, return_exceptions=True)

    assert isinstance(outcomes[0], AlertStatusChanged)
    assert isinstance(outcomes[1], AlertChangeRefused), outcomes[1]
    assert outcomes[1].kind == "alert-unchanged"
    async with sessions() as session:
        entries = (await session.scalars(select(AuditRow).order_by(AuditRow.seq))).all()
    assert [(e.actor, e.action) for e in entries] == [("ana", "alert_acknowledge")]


async def test_the_demo_seeds_its_manifests_a_chunk_a_transaction(engine: AsyncEngine) -> None:
    """`borderflow up` stored the day's manifests in one transaction: with 6,000 trucks on
    a loaded machine it held SQLite's write lock 61 s, and every other writer of the
    process gave up after its 30 s ("database is locked")."""
    plan = plan_traffic(gate=get_gate("huu-nghi"), trucks=1300, start=T0, seed=3)
    assert len(plan.manifests) > 2 * SEED_CHUNK
    commits: list[int] = []
    listen = (engine.sync_engine, "commit", lambda _: commits.append(1))
    event.listen(*listen)
    try:
        await seed_manifests(session_factory(engine), plan.manifests, now=T0)
    finally:
        event.remove(*listen)
    assert len(commits) == -(-len(plan.manifests) // SEED_CHUNK)
    async with session_factory(engine)() as session:
        stored = await session.scalar(select(func.count()).select_from(ManifestRow))
    assert stored == len(plan.manifests)
