"""The API's booking outbox, while the database or the broker is away, logs one line per
retry naming the reason, not a traceback: found 2026-12-06 by an operator whose PostgreSQL
refused connections for 30 s, and the API's log held a 30-line traceback of three chained
exceptions at each retry (1, 2, 4 ... 60 s apart) for this expected condition. A failure
that is not an outage (a bug) keeps its traceback."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.adapters.booking_outbox import BookingOutbox

LOGGER = "services.adapters.booking_outbox"


class FakeProducer:
    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, topic: str, **kwargs: Any) -> Any:
        raise AssertionError("nothing to send")


def failing_sessions(exc: Exception) -> async_sessionmaker[AsyncSession]:
    def sessions() -> Any:
        raise exc

    return cast(async_sessionmaker[AsyncSession], sessions)


async def first_warning(exc: Exception, caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    outbox = BookingOutbox(sessions=failing_sessions(exc), producer=FakeProducer)
    task = asyncio.create_task(outbox.run())
    try:
        for _ in range(1500):  # up to 15 s
            found = [r for r in caplog.records if r.name == LOGGER]
            if found:
                return found[0]
            await asyncio.sleep(0.01)
        raise AssertionError("the outbox logged nothing")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_an_outage_is_one_line_naming_the_reason(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    record = await first_warning(ConnectionRefusedError("Connect call failed"), caplog)
    assert not record.exc_info
    assert "Connect call failed" in record.getMessage()
    assert "will retry" in record.getMessage()


async def test_a_bug_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    record = await first_warning(ValueError("a bug"), caplog)
    assert record.exc_info
