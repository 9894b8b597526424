"""Alembic migrations, run at start-up (and by `borderflow migrate`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# Several processes may start at once: PostgreSQL serialises them on this advisory lock,
# SQLite on its write lock (BEGIN IMMEDIATE).
_ADVISORY_LOCK_ID = 0x626F7264  # "bord"


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


SQLITE_LOCKED_ATTEMPTS = 5


def to_revision(revision: str, *, down: bool = False) -> Callable[[Connection], None]:
    """A function for `AsyncConnection.run_sync` that upgrades (or downgrades) the
    database to `revision`: the migration tests step through revisions with it."""

    def run(connection: Connection) -> None:
        (command.downgrade if down else command.upgrade)(_config(connection), revision)

    return run


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # held to the end of the migrating transaction, committed or rolled back: an unlock
        # in a `finally` ran in the transaction a failed migration had aborted, and its own
        # error ('current transaction is aborted') hid the migration's
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
    elif connection.dialect.name == "sqlite":
        # SQLite: the write lock first (the others queue on the busy timeout), so a second
        # process reads the version the first wrote, not a new database to create again
        connection.execute(text("BEGIN IMMEDIATE"))
    command.upgrade(_config(connection), "head")


async def migrate(engine: AsyncEngine) -> None:
    for attempt in range(1, SQLITE_LOCKED_ATTEMPTS + 1):
        try:
            async with engine.begin() as connection:
                await connection.run_sync(_upgrade)
            break
        except OperationalError as exc:
            # SQLite: opening a new file while another process turns it to WAL can answer
            # "database is locked" at once, before any busy timeout applies; tried again
            locked = engine.dialect.name == "sqlite" and "database is locked" in str(exc)
            if not locked or attempt == SQLITE_LOCKED_ATTEMPTS:
                raise
            log.warning("database locked while migrating; again (%d)", attempt)
            await asyncio.sleep(0.2 * attempt)
    log.info("database schema at head", extra={"database": engine.url.render_as_string()})


def schema_mismatch(connection: Connection) -> str | None:
    """What stands between this version and a database migrated to another revision (a
    recording made before an upgrade: its tables lack what this version reads), in words;
    None at this version's head, or for a database alembic never migrated."""
    current = MigrationContext.configure(connection).get_current_revision()
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    if current is None or current == head:
        return None
    try:
        script.get_revision(current)
    except CommandError:
        return f"is at schema {current}, newer than this borderflow's ({head}): use that version"
    return (
        f"is at schema {current}, and this borderflow reads schema {head}: run `borderflow "
        "migrate` on it first (the same BORDERFLOW_DATABASE_URL; run again, it changes nothing)"
    )
