"""A database the call notifier cannot write for a moment is one warning line, not a
traceback on the console (found by an analyst running `borderflow up --speedup 600` on a
loaded machine, as docs/replay.md's measurement does: 'call deliveries failed; retrying'
came with a 30-line SQLAlchemy traceback for 'database is locked', between the progress
lines; the decider's own such failure is one line, 'handler failed on a batch of 500
(OperationalError(...))')."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import cast

import pytest
from sqlalchemy.exc import OperationalError

from services.service_layer.call_notices import CallNotices
from services.workers.call_notifier import CallNotifier


class _LockedOnce:
    def __init__(self, stop: asyncio.Event, error: Exception) -> None:
        self.stop, self.error, self.tries = stop, error, 0

    async def deliver_due(self) -> int:
        self.tries += 1
        if self.tries == 1:
            raise self.error
        self.stop.set()
        return 0


async def _run(error: Exception, caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    stop = asyncio.Event()
    notices = _LockedOnce(stop, error)
    with caplog.at_level(logging.INFO, logger="services.workers.call_notifier"):
        await CallNotifier(notices=cast(CallNotices, notices)).run(stop, every_s=0.01)
    assert notices.tries == 2  # it tried again
    return [r for r in caplog.records if r.name == "services.workers.call_notifier"]


async def test_a_locked_database_is_one_warning_line(caplog: pytest.LogCaptureFixture) -> None:
    locked = OperationalError(
        "UPDATE call_notifications ...", {}, sqlite3.OperationalError("database is locked")
    )
    said = await _run(locked, caplog)
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in said] == [
        ("WARNING", "call deliveries failed (database is locked); retrying in 0.01 s", None)
    ]


async def test_anything_else_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    said = await _run(TypeError("a bug"), caplog)
    assert [(r.levelname, r.getMessage()) for r in said] == [
        ("ERROR", "call deliveries failed; retrying")
    ]
    assert said[0].exc_info is not None
