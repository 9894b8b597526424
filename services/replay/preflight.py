"""Before `archive export`, `replay` and `redrive --from` read the archive: is there one,
and does it hold anything in the range? Found by a stranger's try: a database without the
archive (the default `./var/borderflow.db` is relative to the folder one runs in) gave a
Python traceback and left a new, empty database file behind, and a replay of a range with
nothing archived wrote empty files and exited 0, saying nothing."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

from services.archive.store import archive_extent, count_in_range
from services.db.engine import display_url
from services.db.migrate import schema_mismatch
from services.runtime.settings import DatabaseSettings

_WHERE = (
    "set BORDERFLOW_DATABASE_URL to the database the live system ran on (the default, "
    "sqlite+aiosqlite:///./var/borderflow.db, is relative to the folder you run in)"
)


async def archive_problem(
    settings: DatabaseSettings, *, start: datetime, end: datetime, need_events: bool
) -> str | None:
    """What is wrong with reading [start, end) off the archive, in words; None if nothing.
    `need_events`: a range holding no record is a problem too (a replay of it decides
    nothing)."""
    from services.bootstrap import open_database  # noqa: PLC0415 (the CLI's lazy imports)

    url = display_url(settings)
    missing = _missing_sqlite_file(settings)
    if missing is not None:  # opening it would make an empty database there
        return f"no database at {missing} ({url}); {_WHERE}"
    async with open_database(settings) as sessions, sessions() as session:
        extent = await archive_extent(session=session)
        if extent is None:
            return (
                f"{url} holds no event archive (no event_archive table: `borderflow up` "
                f"never ran on it); {_WHERE}"
            )
        mismatch = await session.run_sync(lambda sync: schema_mismatch(sync.connection()))
        if mismatch:  # was a traceback: "no such column: archive_batches.watermark"
            return f"{url} {mismatch}"
        if not need_events or await count_in_range(session=session, start=start, end=end):
            return None
    held = (
        "the archive is empty"
        if extent.first is None or extent.last is None
        else f"the archive holds {extent.events} records from {_iso(extent.first)} "
        f"to {_iso(extent.last)}"
    )
    return f"nothing archived from {_iso(start)} to {_iso(end)} (event time); {held}"


async def warm_up_note(
    settings: DatabaseSettings, *, start: datetime, warm_up: timedelta
) -> str | None:
    """Why a replay may differ from the live run: its warm-up began after the archive's
    first event, so it started without the boards and visits the live run had then
    (docs/replay.md, Limits); None when the warm-up reaches back to the first event.
    Found by a stranger's try: `--warm-up 0` mid-day gave 277 differences and no word."""
    from services.bootstrap import open_database  # noqa: PLC0415 (the CLI's lazy imports)

    async with open_database(settings) as sessions, sessions() as session:
        extent = await archive_extent(session=session)
    first = None if extent is None else extent.first
    warm_from = start - warm_up
    if first is None or warm_from <= first:
        return None
    hours = math.ceil((start - first).total_seconds() / 3600)
    return (
        f"the warm-up began at {_iso(warm_from)}, after the archive's first event "
        f"({_iso(first)}): the replay started without the boards and visits the live run "
        "had then, so its decisions can differ unless the gate was idle then "
        f"(docs/replay.md, Limits); --warm-up {hours} reaches back to it"
    )


def _missing_sqlite_file(settings: DatabaseSettings) -> Path | None:
    database = make_url(settings.url).database if settings.is_sqlite else None
    if not database or database == ":memory:":
        return None
    path = Path(database).expanduser().resolve()
    return None if path.exists() else path


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
