"""A database host that never answers: the start-up line says so. The connection's
TimeoutError has no text, and the line ended 'cannot connect: ' with no reason."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db.engine import reach_database
from services.runtime.setting_errors import SettingError
from services.runtime.settings import DatabaseSettings


class _Silent:
    @asynccontextmanager
    async def connect(self) -> AsyncIterator[None]:
        raise TimeoutError  # as asyncpg's connect after its timeout
        yield


async def test_a_host_that_never_answers_is_said_so() -> None:
    settings = DatabaseSettings(url="postgresql+asyncpg://bf:secret@10.0.0.9/bf")
    with pytest.raises(SettingError) as refused:
        await reach_database(cast(AsyncEngine, _Silent()), settings)
    assert str(refused.value) == (
        "BORDERFLOW_DATABASE_URL=postgresql+asyncpg://bf:***@10.0.0.9/bf: cannot connect: "
        "TimeoutError: no answer"
    )
