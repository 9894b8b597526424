"""A migration that fails on PostgreSQL raises its own error, not the advisory unlock's:
`_upgrade` unlocked in a `finally` on the transaction the failure had aborted, so every
failure read 'current transaction is aborted, commands ignored until end of transaction
block [SQL: SELECT pg_advisory_unlock($1)]' (found 2026-12-06 by an operator: a schema not
made yet; any other failure, a table in the way or a privilege missing, read the same)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.db.engine import create_engine
from services.db.migrate import migrate
from services.runtime.settings import DatabaseSettings
from tests.conftest import POSTGRES_URL, _create_schema, _drop_schema

pytestmark = pytest.mark.postgres


async def test_the_failing_migrations_own_error_is_raised() -> None:
    schema = f"bf_test_{uuid.uuid4().hex[:12]}"
    await _create_schema(schema)
    engine = create_engine(DatabaseSettings(url=POSTGRES_URL, schema_name=schema))
    try:
        async with engine.begin() as conn:  # a table of someone else's, in the way
            await conn.execute(text("CREATE TABLE gates (other integer)"))
        with pytest.raises(DBAPIError) as raised:
            await migrate(engine)
        assert "current transaction is aborted" not in str(raised.value)
        assert "gates" in str(raised.value)
    finally:
        await engine.dispose()
        await _drop_schema(schema)
