"""Engine and session factory for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from services.runtime.setting_errors import SettingError
from services.runtime.settings import DatabaseSettings


def _prepare_sqlite_path(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def application_name(settings: DatabaseSettings) -> str:
    """What PostgreSQL shows for borderflow's connections: the service, and its schema if any."""
    name = f"borderflow:{settings.schema_name}" if settings.schema_name else "borderflow"
    return name[:63]


def display_url(settings: DatabaseSettings) -> str:
    """The database's URL as a person may read it (the password masked)."""
    return make_url(settings.url).render_as_string()


async def reach_database(engine: AsyncEngine, settings: DatabaseSettings) -> None:
    """One connection, or a SettingError naming BORDERFLOW_DATABASE_URL and the server's
    reason: a database or role that does not exist, a host not found or not answering, a
    password refused (each was a traceback from the first query, or the bare reason)."""
    try:
        async with engine.connect() as connection:
            missing = await _missing_schema(connection, settings)
    except (OSError, SQLAlchemyError) as exc:
        cause: BaseException = exc
        if isinstance(exc, DBAPIError) and exc.orig is not None:
            cause = exc.orig.__cause__ or exc.orig  # the driver's own error, not its wrapper
        why = (cause.strerror if isinstance(cause, OSError) else None) or str(cause)
        if not why:  # a connection timed out (no answer from the host) says nothing
            why = f"{type(cause).__name__}: no answer"
        raise SettingError(
            f"BORDERFLOW_DATABASE_URL={display_url(settings)}: cannot connect: {why}"
        ) from exc
    if missing is not None:
        raise SettingError(
            f"BORDERFLOW_DATABASE_SCHEMA_NAME={missing}: no such schema in "
            f"{display_url(settings)}: create it first (CREATE SCHEMA {missing}), or leave the "
            "setting unset for the server's default"
        )


async def _missing_schema(connection: AsyncConnection, settings: DatabaseSettings) -> str | None:
    """The schema BORDERFLOW_DATABASE_SCHEMA_NAME names when PostgreSQL has none so named
    (found by an operator: migrate then failed creating its first table, and the advisory
    unlock after it ended in a traceback, 'current transaction is aborted'); else None."""
    if settings.is_sqlite or not settings.schema_name:
        return None
    found = await connection.scalar(
        text("SELECT 1 FROM pg_namespace WHERE nspname = :name"), {"name": settings.schema_name}
    )
    return None if found else settings.schema_name


def create_engine(settings: DatabaseSettings, **overrides: Any) -> AsyncEngine:
    kwargs: dict[str, Any] = {"echo": settings.echo}
    if settings.is_sqlite:
        _prepare_sqlite_path(settings.url)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=settings.pool_size, pool_pre_ping=True)
        # application_name tells the service's connections apart in pg_stat_activity (an
        # operator's view, and the fault test that terminates only its own system's).
        server_settings = {"application_name": application_name(settings)}
        if settings.schema_name:
            server_settings["search_path"] = settings.schema_name
        kwargs["connect_args"] = {"server_settings": server_settings}
    kwargs.update(overrides)
    engine = create_async_engine(settings.url, **kwargs)
    if settings.is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # the busy timeout first: turning a new database to WAL takes its lock, and connections
    # opened at once (two processes migrating a new file) met "database is locked" there
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


S = TypeVar("S")


def transactions(
    sessions: async_sessionmaker[AsyncSession],
    store: Callable[[AsyncSession], S],
    *,
    on_rollback: Callable[[], None] | None = None,
) -> Callable[[], AbstractAsyncContextManager[S]]:
    """A unit of work on the database: each use opens a session and a transaction, hands
    `store(session)` to the block, commits when it ends normally and rolls back when it
    raises (the SQL adapters of the ports in services/ports); `on_rollback` is called when
    the block or the commit raises (state kept beside the database must be dropped)."""

    @asynccontextmanager
    async def transaction() -> AsyncIterator[S]:
        try:
            async with sessions() as session, session.begin():
                yield store(session)
        except BaseException:
            if on_rollback is not None:
                on_rollback()
            raise

    return transaction
