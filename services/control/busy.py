"""A controller's write the database could not take in time (SQLite: another writer, the
decider under a busy gate, held its lock past the busy timeout) is a 503 to try again, with
nothing applied; it was a 500 "unexpected error" (found in the control room on a sped-up
day: a Hold refused so, with a request id to quote)."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from services.api.problems import ProblemError

RETRY_AFTER_S = 5


def is_busy(exc: OperationalError) -> bool:
    """SQLite's `database is locked`: the transaction did not start, nothing was written."""
    return "database is locked" in str(exc.orig)


def busy_problem() -> ProblemError:
    return ProblemError(
        503,
        "database-busy",
        "database: busy (another writer held it past the wait); not applied, try again",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )
