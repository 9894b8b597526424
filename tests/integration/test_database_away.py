"""A PostgreSQL that refuses a worker's new connections for a while is an outage, not a
fault of the records in hand: the consumer runtime retries them and never dead-letters them
(`streams.runtime.is_outage`). Found 2026-12-06 by an operator: with the decider's database
set to refuse connections (`ALTER DATABASE ... ALLOW_CONNECTIONS false`, maintenance),
`borderflow worker decider` dead-lettered 316 plate reads as `handler error: DBAPIError:
... database "h3_ops" is not currently accepting connections` (and the archiver 562
records), where the operations guide says a record that fails for the outage is never
dead-lettered. The same for a database renamed away during a restore, or a password
changed before the Secret (the key-rotation runbook's window)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from streams.runtime import is_outage
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.postgres


async def _connect_error(url: str) -> BaseException:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return exc
    finally:
        await engine.dispose()
    raise AssertionError(f"{url} connected")


@pytest.fixture
async def closed_database() -> AsyncIterator[str]:
    """A database of its own that refuses new connections; the URL that names it."""
    name = f"bf_away_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
            await conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await admin.dispose()


async def test_a_database_not_accepting_connections_is_an_outage(closed_database: str) -> None:
    exc = await _connect_error(closed_database)
    assert "not currently accepting connections" in str(exc)
    assert is_outage(exc)


@pytest.mark.parametrize(
    "change",
    [
        {"database": "borderflow_renamed_away"},  # 3D000, a restore's rename
        {"username": "borderflow_no_such_role"},  # 28000, as a password changed: 28P01
    ],
)
async def test_a_database_or_role_refused_at_connect_is_an_outage(change: dict[str, str]) -> None:
    exc = await _connect_error(make_url(POSTGRES_URL).set(**change).render_as_string(False))
    assert is_outage(exc), repr(exc)
