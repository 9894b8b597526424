"""Shared fixtures: the embedded broker (tests/kafka_plugin.py) and real databases.

Database tests run against SQLite and against the PostgreSQL server at 127.0.0.1:5432
(`BORDERFLOW_TEST_POSTGRES_URL` to point elsewhere), each test in a schema of its own.
Set BORDERFLOW_TEST_SKIP_POSTGRES=1 to skip PostgreSQL on a machine without it (CI never
does: there a missing PostgreSQL is a failure)."""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.bootstrap import prepare_database
from services.db.engine import create_engine
from services.gates.loader import default_gates
from services.runtime.settings import DatabaseSettings
from streams import clock

pytest_plugins = ["tests.kafka_plugin"]

POSTGRES_URL = os.environ.get(
    "BORDERFLOW_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def _restore_root_logging() -> Iterator[None]:
    """A test that runs a command in-process (`services.cli.main`) installs a log handler
    bound to that test's captured stderr; later tests must not write to it once closed."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True)
def _patient_http_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx clients wait 30 s for an answer unless a test says otherwise, not httpx's 5 s:
    `make test` runs four test processes on two cores, and on a loaded machine a request
    the server answers in milliseconds when quiet waited more than 5 s (ReadTimeout in
    test_control_carriers and test_control_lane_race, 2026-12-06, load 10). How long a
    request takes is the benchmarks' question (bench/), not these tests'."""
    init = httpx.AsyncClient.__init__

    def patient(self: httpx.AsyncClient, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", 30.0)
        init(self, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "__init__", patient)


def pytest_report_header(config: pytest.Config) -> str:
    """The wall clock the run sees (a year ahead under `make test-shifted`)."""
    shift = os.environ.get("BORDERFLOW_TEST_SHIFT_DAYS")
    now = clock.wall_clock().isoformat(timespec="seconds")
    return f"servers' clock: {now}" + (f" (shifted {shift} days)" if shift else "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("BORDERFLOW_TEST_SKIP_POSTGRES") == "1":
        skip = pytest.mark.skip(reason="BORDERFLOW_TEST_SKIP_POSTGRES=1")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


async def _create_schema(schema: str) -> None:
    admin = create_async_engine(POSTGRES_URL)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        await admin.dispose()


async def _drop_schema(schema: str) -> None:
    admin = create_async_engine(POSTGRES_URL)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await admin.dispose()


@pytest.fixture(
    params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database_settings(request: pytest.FixtureRequest, tmp_path: Path) -> DatabaseSettings:
    """Settings for a fresh, empty database of each kind."""
    if request.param == "sqlite":
        return DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}")
    schema = f"bf_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_create_schema(schema))
    request.addfinalizer(lambda: asyncio.run(_drop_schema(schema)))
    return DatabaseSettings(url=POSTGRES_URL, schema_name=schema)


_MIGRATED_SQL: list[str] = []  # `_migrated_schema_sql`, once a session
_TEMPLATE = "bf_template_"  # the migrated schema's name in it (a prefix of a unique name)


async def _migrated_schema_sql() -> str:
    """SQL that builds in an empty schema named `_TEMPLATE` what `prepare_database` with
    the default gates builds (tables, indexes, sequences, the gates' rows, alembic's
    version): a schema migrated once a session, dumped by pg_dump. "" where pg_dump is
    missing or refuses (a server of another major version): the caller migrates."""
    if _MIGRATED_SQL:
        return _MIGRATED_SQL[0]
    sql, pg_dump = "", shutil.which("pg_dump")
    if pg_dump is not None:
        schema = f"{_TEMPLATE}{uuid.uuid4().hex[:12]}"
        await _create_schema(schema)
        try:
            eng = create_engine(DatabaseSettings(url=POSTGRES_URL, schema_name=schema))
            try:
                await prepare_database(eng, default_gates())
            finally:
                await eng.dispose()
            dump = await asyncio.create_subprocess_exec(
                *(pg_dump, "--schema", schema, "--no-owner", "--no-privileges", "--inserts"),
                *("--dbname", _libpq_url()),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            out, _ = await dump.communicate()
        finally:
            await _drop_schema(schema)
        if dump.returncode == 0:
            sql = "\n".join(
                line  # not psql's meta-commands (\\restrict), nor the schema: it exists
                for line in out.decode().replace(schema, _TEMPLATE).splitlines()
                if not line.startswith("\\") and line != f"CREATE SCHEMA {_TEMPLATE};"
            )
    _MIGRATED_SQL.append(sql)
    return sql


_MIGRATED_FILE: list[Path] = []  # `_migrated_sqlite_file`, once a session


async def _migrated_sqlite_file() -> Path:
    """An SQLite database that `prepare_database` with the default gates built, once a
    session (closed: its write-ahead log is checkpointed into the file), removed at exit."""
    if not _MIGRATED_FILE:
        folder = Path(tempfile.mkdtemp(prefix="borderflow-migrated-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "borderflow.db"
        eng = create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{path}"))
        try:
            await prepare_database(eng, default_gates())
        finally:
            await eng.dispose()
        _MIGRATED_FILE.append(path)
    return _MIGRATED_FILE[0]


def _libpq_url() -> str:
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@pytest_asyncio.fixture
async def engine(database_settings: DatabaseSettings) -> AsyncIterator[AsyncEngine]:
    """A migrated database with the default gates: a copy of one migrated once a session
    (`migrated`). On PostgreSQL migrating took 0.8-13 s a test on the loaded 2-core VM (142
    statements), the copy 0.5-1 s; on SQLite 0.2-1.6 s, the file copy milliseconds. The
    migrations themselves still run on empty databases of both kinds: test_schema_drift,
    the migration tests, and every test that starts the system on `database_settings`."""
    eng = create_engine(database_settings)
    await migrated(eng, database_settings)
    try:
        yield eng
    finally:
        await eng.dispose()


async def migrated(eng: AsyncEngine, settings: DatabaseSettings) -> None:
    """What `prepare_database(eng, default_gates())` does to an empty database, by copying
    a database migrated once a session: on SQLite its file (before `eng` connects), on
    PostgreSQL its schema (`_migrated_schema_sql`)."""
    path = make_url(settings.url).database if settings.is_sqlite else None
    if path and path != ":memory:" and not Path(path).exists():  # noqa: ASYNC240 - set-up
        shutil.copyfile(await _migrated_sqlite_file(), path)
        return
    schema = settings.schema_name
    sql = await _migrated_schema_sql() if schema else ""
    if schema and sql:
        conn = await asyncpg.connect(_libpq_url())  # its own: the dump sets search_path
        try:
            await conn.execute(sql.replace(_TEMPLATE, schema))
        finally:
            await conn.close()
    else:
        await prepare_database(eng, default_gates())
