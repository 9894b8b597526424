"""`borderflow archive export`: a time range of the archive to JSONL (one record a line) or
Parquet (one file a day, `events-YYYY-MM-DD.parquet`, via pyarrow): the days of the clock
`--from` was written in (`+07:00`: the Huu Nghi gate's days; `Z`: UTC days)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.archive.records import ArchivedRecord
from services.archive.store import iter_range

FORMATS = ("jsonl", "parquet")


def record_json(record: ArchivedRecord) -> dict[str, Any]:
    """A record as one JSON object: key and value as text when they are UTF-8, else base64
    (`key_b64`, `value_b64`); headers `[[name, base64]]`."""
    out: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp_ms": record.timestamp_ms,
        "event_id": record.event_id,
        "event_time": record.event_time.isoformat(),
    }
    for name, raw in (("key", record.key), ("value", record.value)):
        if raw is None:
            out[name] = None
            continue
        try:
            out[name] = raw.decode("utf-8")
        except UnicodeDecodeError:
            out[f"{name}_b64"] = base64.b64encode(raw).decode()
    out["headers"] = record.json_headers()
    return out


async def export_range(
    sessions: async_sessionmaker[AsyncSession],
    *,
    start: datetime,
    end: datetime,
    out: Path,
    fmt: str,
    topics: Sequence[str] | None = None,
) -> tuple[int, list[Path]]:
    """Write the records of [start, end) to `out` (a file for JSONL, a folder for Parquet);
    returns the count and the files written. Parquet files are cut at the midnights of
    `start`'s UTC offset, and named by that day: an analyst who asks for a gate's local day
    gets one file of that day (cut at UTC midnight, the Huu Nghi day 00:00-24:00 +07:00
    came as two files, one named for the day before)."""
    if fmt not in FORMATS:
        raise ValueError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    async with sessions() as session:
        if fmt == "jsonl":
            out.parent.mkdir(parents=True, exist_ok=True)
            count = 0
            with out.open("w", encoding="utf-8") as f:
                async for record in iter_range(
                    session=session, start=start, end=end, topics=topics
                ):
                    f.write(json.dumps(record_json(record), ensure_ascii=False) + "\n")
                    count += 1
            return count, [out]
        by_day: dict[str, list[ArchivedRecord]] = {}
        clock = start.tzinfo
        async for record in iter_range(session=session, start=start, end=end, topics=topics):
            day = record.event_time.astimezone(clock).date().isoformat()
            by_day.setdefault(day, []).append(record)
    out.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, after the reads)
    files = [
        write_parquet(records, out / f"events-{day}.parquet")
        for day, records in sorted(by_day.items())
    ]
    return sum(len(r) for r in by_day.values()), files


def write_parquet(records: Sequence[ArchivedRecord], path: Path) -> Path:
    header = pa.struct([("name", pa.string()), ("value", pa.binary())])
    table = pa.table(
        {
            "topic": pa.array([r.topic for r in records], pa.string()),
            "partition": pa.array([r.partition for r in records], pa.int32()),
            "offset": pa.array([r.offset for r in records], pa.int64()),
            "timestamp_ms": pa.array([r.timestamp_ms for r in records], pa.int64()),
            "event_id": pa.array([r.event_id for r in records], pa.string()),
            "event_time": pa.array([r.event_time for r in records], pa.timestamp("us", tz="UTC")),
            "key": pa.array([r.key for r in records], pa.binary()),
            "value": pa.array([r.value for r in records], pa.binary()),
            "headers": pa.array(
                [[{"name": k, "value": v} for k, v in r.headers] for r in records],
                pa.list_(header),
            ),
        }
    )
    pq.write_table(table, path)
    return path
