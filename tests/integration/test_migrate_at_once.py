"""Two commands that migrate one new SQLite database at the same time both find it at head.

Found by a tester as a stranger (2026-12-06): `borderflow up --no-simulator` on a new
database file, and `borderflow controllers create ana` typed in another terminal while it
started: `up` died with a traceback, `sqlite3.OperationalError: table gates already
exists`. Each read the database as never migrated and created the tables; PostgreSQL is
serialised by an advisory lock, SQLite was not."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from services.db.engine import create_engine
from services.db.migrate import migrate
from services.runtime.settings import DatabaseSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_two_migrations_of_a_new_sqlite_database_at_once(tmp_path: Path) -> None:
    settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    engines = [create_engine(settings) for _ in range(4)]
    try:
        await asyncio.gather(*(migrate(engine) for engine in engines))
        async with engines[0].connect() as connection:
            heads = (
                await connection.execute(text("SELECT count(*) FROM alembic_version"))
            ).scalar()
        assert heads == 1
    finally:
        for engine in engines:
            await engine.dispose()
