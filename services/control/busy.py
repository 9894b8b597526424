"""A controller's write the database could not take in time (SQLite: another writer, the
decider under a busy gate, held its lock past the busy timeout) is a 503 to try again, with
nothing applied; it was a 500 "unexpected error" (found in the control room on a sped-up
day: a Hold refused so, with a request id to quote)."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from services.api.problems import (
    BUSY_DETAIL,
    BUSY_RETRY_AFTER_S,
    ProblemError,
    database_busy,
)

RETRY_AFTER_S = BUSY_RETRY_AFTER_S


def is_busy(exc: OperationalError) -> bool:
    """SQLite's `database is locked`: the transaction did not start, nothing was written
    (`services.api.problems.database_busy`, which answers it anywhere else as this does)."""
    return database_busy(exc)


def busy_problem() -> ProblemError:
    return ProblemError(
        503, "database-busy", BUSY_DETAIL, headers={"Retry-After": str(RETRY_AFTER_S)}
    )
