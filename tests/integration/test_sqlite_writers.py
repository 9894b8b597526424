"""Several writers on one SQLite file (`borderflow up`: the decider, the workers and the API
in one process, each transaction on its own connection). The driver (pysqlite, under
aiosqlite) began a transaction only before an INSERT, UPDATE or DELETE, so what a
transaction read before its first write was read outside it: two transactions that read
and then wrote lost one's update, and two controllers acknowledging one alert at once both
did it. Every transaction on SQLite now begins IMMEDIATE (services/db/engine.py): it holds
the write lock from its start, and the others wait for it (the busy timeout). On
PostgreSQL the same code runs under its own locks: the cases through the use cases run on
both. Also the demo's seeding, which held the write lock past the others' wait."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Integer, event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lanes.alerts import Alert, Severity
from services.adapters.sql_gate import SqlControlStore, sql_control_stores
from services.alerts import store as alerts
from services.db.control_tables import AuditRow
from services.db.engine import begin_reader, create_engine, session_factory, transactions
from services.db.tables import ManifestRow
from services.gates.loader import get_gate
from services.ports import AlertState
from services.runtime.settings import DatabaseSettings
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


class _Base(DeclarativeBase):
    pass


class _Counter(_Base):
    __tablename__ = "counter"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


async def _counter_engine(tmp_path: Path) -> AsyncEngine:
    eng = create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"))
    async with eng.begin() as conn:
        await conn.run_sync(_Base.metadata.create_all)
        await conn.execute(text("INSERT INTO counter (id, n) VALUES (1, 0)"))
    return eng


async def _add_one(session: AsyncSession) -> None:
    row = await session.get(_Counter, 1)  # read...
    assert row is not None
    await asyncio.sleep(0)  # ...let the others run...
    row.n += 1  # ...then write what was read, plus one
    await session.flush()


async def _count(eng: AsyncEngine) -> int:
    async with session_factory(eng)() as session:
        return int(await session.scalar(select(_Counter.n)) or 0)


async def test_a_transaction_that_read_writes_after_another_committed(tmp_path: Path) -> None:
    eng = await _counter_engine(tmp_path)
    tx = transactions(session_factory(eng), lambda session: session)
    try:

        async def other() -> None:
            async with tx() as session:
                await _add_one(session)

        async with tx() as session:
            row = await session.get(_Counter, 1)
            assert row is not None
            writer = asyncio.create_task(other())
            await asyncio.wait({writer}, timeout=OTHER_WRITER)
            row.n += 1  # lost `other`'s update: the read above was outside the transaction
            await session.flush()
        await writer
        assert await _count(eng) == 2
    finally:
        await eng.dispose()


async def test_concurrent_read_then_write_transactions_all_commit_none_lost(
    tmp_path: Path,
) -> None:
    eng = await _counter_engine(tmp_path)
    tx = transactions(session_factory(eng), lambda session: session)
    try:

        async def add() -> None:
            async with tx() as session:
                await _add_one(session)

        outcomes = await asyncio.gather(*(add() for _ in range(8)), return_exceptions=True)
        assert [o for o in outcomes if o is not None] == []
        assert await _count(eng) == 8
    finally:
        await eng.dispose()


async def test_a_reader_neither_waits_for_a_writer_nor_holds_it_back(tmp_path: Path) -> None:
    """`begin_reader` (a long export): a deferred transaction on one snapshot, no lock."""
    eng = await _counter_engine(tmp_path)
    sessions = session_factory(eng)
    tx = transactions(sessions, lambda session: session)
    try:
        async with sessions() as reader:
            await begin_reader(reader)
            assert await reader.scalar(select(_Counter.n)) == 0
            async with tx() as writer:  # waited for the reader, then "database is locked"
                await _add_one(writer)
                async with sessions() as other_reader:  # a writer in progress: no wait
                    await begin_reader(other_reader)
                    assert await other_reader.scalar(select(_Counter.n)) == 0
            assert await reader.scalar(select(_Counter.n)) == 0  # its snapshot throughout
        assert await _count(eng) == 1
    finally:
        await eng.dispose()


async def test_a_savepoint_rolls_back_alone_inside_a_transaction(tmp_path: Path) -> None:
    eng = await _counter_engine(tmp_path)
    try:
        async with session_factory(eng)() as session, session.begin():
            row = await session.get(_Counter, 1)
            assert row is not None
            row.n = 5
            await session.flush()
            try:
                async with session.begin_nested():
                    row.n = 99
                    await session.flush()
                    raise LookupError("undo the savepoint only")
            except LookupError:
                pass
            assert (await session.scalar(select(_Counter.n))) == 5
        assert await _count(eng) == 5
    finally:
        await eng.dispose()


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
    both were applied (two audit entries 'open -> acknowledged'). Now the second waits for
    the first (as on PostgreSQL, where the alert is read FOR UPDATE) and is refused."""
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
