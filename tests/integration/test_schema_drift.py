"""The migrations build the schema the code's tables describe (SQLite and PostgreSQL):
after `upgrade head`, alembic's autogenerate comparison finds nothing to add, drop or
change (tables, columns, types, indexes). A table or column added to a model without its
migration (or the reverse) fails here, not in production."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

import services
from services.db.engine import create_engine
from services.db.migrate import migrate
from services.db.tables import Base
from services.runtime.settings import DatabaseSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _import_every_table_module() -> None:
    """Every module that declares tables on `Base`, wherever it lives."""
    for module in pkgutil.walk_packages(services.__path__, "services."):
        if module.name.endswith(("tables", "_tables")) and ".migrations" not in module.name:
            importlib.import_module(module.name)


async def test_migrations_match_the_models(database_settings: DatabaseSettings) -> None:
    _import_every_table_module()
    assert {"alerts", "xborder_crossings", "driver_pages"} <= set(Base.metadata.tables)
    engine = create_engine(database_settings)
    try:
        await migrate(engine)
        async with engine.connect() as conn:

            def compare(sync: Connection) -> list[Any]:
                context = MigrationContext.configure(sync, opts={"compare_type": True})
                return list(compare_metadata(context, Base.metadata))

            differences = await conn.run_sync(compare)
    finally:
        await engine.dispose()
    assert differences == []
