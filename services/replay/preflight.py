"""Before `archive export`, `replay` and `redrive --from` read the archive: is there one?
Found by a stranger's try: a database without the archive (the default
`./var/borderflow.db` is relative to the folder one runs in) gave a Python traceback and
left a new, empty database file behind."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from services.archive.store import archive_extent
from services.db.engine import display_url
from services.runtime.settings import DatabaseSettings

_WHERE = (
    "set BORDERFLOW_DATABASE_URL to the database the live system ran on (the default, "
    "sqlite+aiosqlite:///./var/borderflow.db, is relative to the folder you run in)"
)


async def archive_problem(settings: DatabaseSettings) -> str | None:
    """What is wrong with reading the archive, in words; None if nothing."""
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
    return None


def _missing_sqlite_file(settings: DatabaseSettings) -> Path | None:
    database = make_url(settings.url).database if settings.is_sqlite else None
    if not database or database == ":memory:":
        return None
    path = Path(database).expanduser().resolve()
    return None if path.exists() else path
