"""`borderflow archive export --format parquet` cuts its files at the midnights of the clock
`--from` is written in: the Huu Nghi gate's day (+07:00) is one file named for that day, a
gate at UTC-05:00 gets its New Year's Eve and its New Year's Day, and `Z` gives UTC days.
Cut at UTC midnight, the local day 2026-11-24 +07:00 came as events-2026-11-23.parquet and
events-2026-11-24.parquet (found replaying a recorded day of a gate at UTC-05:00)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.archive.export import export_range
from services.archive.records import ArchivedRecord
from services.archive.store import archive
from services.db.engine import session_factory

pytestmark = pytest.mark.integration

HANOI = timezone(timedelta(hours=7))
WEST = timezone(timedelta(hours=-5))


def _record(offset: int, at: datetime) -> ArchivedRecord:
    return ArchivedRecord(
        topic="borderflow.plate-reads",
        partition=0,
        offset=offset,
        timestamp_ms=int(at.timestamp() * 1000),
        key=None,
        value=b"{}",
        headers=(),
        event_id=f"r-{offset}",
        event_time=at,
    )


async def _files(engine: AsyncEngine, out: Path, start: datetime, end: datetime) -> dict:
    _, files = await export_range(
        session_factory(engine), start=start, end=end, out=out, fmt="parquet"
    )
    return {f.name: sorted(pq.read_table(f).column("event_id").to_pylist()) for f in files}


async def test_parquet_days_are_those_of_the_from_offset(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    times = [
        datetime(2026, 11, 24, 0, 30, tzinfo=HANOI),  # 2026-11-23 17:30 UTC
        datetime(2026, 11, 24, 23, 59, tzinfo=HANOI),
        datetime(2027, 12, 31, 19, 30, tzinfo=WEST),  # 2028-01-01 00:30 UTC
        datetime(2028, 1, 1, 5, 0, tzinfo=WEST),
    ]
    async with session_factory(engine)() as session, session.begin():
        await archive(session=session, records=[_record(n, t) for n, t in enumerate(times)])

    local_day = datetime(2026, 11, 24, tzinfo=HANOI)
    found = await _files(engine, tmp_path / "hn", local_day, local_day + timedelta(days=1))
    assert found == {"events-2026-11-24.parquet": ["r-0", "r-1"]}

    new_year = datetime(2027, 12, 31, tzinfo=WEST)
    found = await _files(engine, tmp_path / "west", new_year, new_year + timedelta(days=2))
    assert found == {"events-2027-12-31.parquet": ["r-2"], "events-2028-01-01.parquet": ["r-3"]}

    utc = datetime(2026, 11, 23, tzinfo=UTC)
    found = await _files(engine, tmp_path / "utc", utc, utc + timedelta(days=2))
    assert found == {"events-2026-11-23.parquet": ["r-0"], "events-2026-11-24.parquet": ["r-1"]}
