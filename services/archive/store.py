"""The archive's database side: insert records (a redelivered one once), read a time range
back, and the deciding workers' batch boundaries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.archive.records import ArchivedRecord, headers_from_json
from services.db.archive_tables import ArchiveBatchRow, ArchivedEventRow
from services.db.bookings import visible_booking_seq
from services.db.manifests import visible_version_seq
from streams import clock

PAGE = 2_000


@dataclass(frozen=True, slots=True)
class RecordedBatch:
    seq: int
    worker: str
    event_ids: tuple[str, ...]
    first_event_at: datetime
    last_event_at: datetime
    recorded_at: datetime
    manifest_seq: int | None  # the manifest versions it saw: those with seq <= this
    booking_seq: int | None = None  # the booking events it saw: those with seq <= this
    # the calls it was told of, by gate (`services.db.called.calls_json`; None: none)
    calls: dict[str, Any] | None = None
    watermark: datetime | None = None  # every partition read up to it (None: to its end)


@dataclass(frozen=True, slots=True)
class ArchiveExtent:
    """What the archive holds: how many records, and the event times of the first and last."""

    events: int
    first: datetime | None
    last: datetime | None


async def archive_extent(*, session: AsyncSession) -> ArchiveExtent | None:
    """The archive's extent; None when the database has no archive table at all (a database
    never migrated: a new file, or not the live system's)."""
    name = ArchivedEventRow.__tablename__
    present = await session.run_sync(lambda s: inspect(s.connection()).has_table(name))
    if not present:
        return None
    time = ArchivedEventRow.event_time
    count, first, last = (
        await session.execute(select(func.count(), func.min(time), func.max(time)))
    ).one()
    return ArchiveExtent(int(count), _utc(first), _utc(last))


async def count_in_range(*, session: AsyncSession, start: datetime, end: datetime) -> int:
    """The records whose event time is in [start, end)."""
    time = ArchivedEventRow.event_time
    query = select(func.count()).where(time >= start, time < end)
    return int(await session.scalar(query) or 0)


def _utc(at: datetime | None) -> datetime | None:
    return at if at is None or at.tzinfo is not None else at.replace(tzinfo=UTC)


async def archive(*, session: AsyncSession, records: Sequence[ArchivedRecord]) -> int:
    """Insert `records`; one already archived (same coordinates) is left as it is."""
    if not records:
        return 0
    now = clock.wall_clock()
    rows = [
        {
            "topic": r.topic,
            "partition": r.partition,
            "offset": r.offset,
            "timestamp_ms": r.timestamp_ms,
            "key": r.key,
            "value": r.value,
            "headers": r.json_headers(),
            "event_id": r.event_id,
            "event_time": r.event_time,
            "archived_at": now,
        }
        for r in records
    ]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(ArchivedEventRow).on_conflict_do_nothing(
        index_elements=["topic", "partition", "offset", "timestamp_ms"]
    )
    result = await session.execute(stmt, rows)
    count = int(getattr(result, "rowcount", -1))
    return count if count >= 0 else len(rows)  # a driver that cannot tell: all of them


def _record(row: ArchivedEventRow) -> ArchivedRecord:
    return ArchivedRecord(
        topic=row.topic,
        partition=row.partition,
        offset=row.offset,
        timestamp_ms=row.timestamp_ms,
        key=row.key,
        value=row.value,
        headers=headers_from_json(row.headers),
        event_id=row.event_id,
        event_time=row.event_time,
    )


async def iter_range(
    *,
    session: AsyncSession,
    start: datetime,
    end: datetime,
    topics: Sequence[str] | None = None,
    page: int = PAGE,
) -> AsyncIterator[ArchivedRecord]:
    """The records whose event time is in [start, end), in archive order, a page at a time."""
    after = 0
    while True:
        query = (
            select(ArchivedEventRow)
            .where(ArchivedEventRow.id > after)
            .where(ArchivedEventRow.event_time >= start, ArchivedEventRow.event_time < end)
            .order_by(ArchivedEventRow.id)
            .limit(page)
        )
        if topics:
            query = query.where(ArchivedEventRow.topic.in_(list(topics)))
        rows = (await session.scalars(query)).all()
        for row in rows:
            yield _record(row)
        if len(rows) < page:
            return
        after = rows[-1].id


async def records_in_range(
    *, session: AsyncSession, start: datetime, end: datetime, topics: Sequence[str] | None = None
) -> list[ArchivedRecord]:
    return [r async for r in iter_range(session=session, start=start, end=end, topics=topics)]


async def record_batch(
    *,
    session: AsyncSession,
    worker: str,
    event_ids: Sequence[str],
    times: Sequence[datetime],
    watermark: datetime | None = None,
) -> ArchiveBatchRow | None:
    """Note a deciding worker's batch (call inside the batch's transaction, before it reads
    any manifest): its events, the manifest versions it can see (`manifest_seq`) and its
    input's watermark. The row (None for a batch of no events) takes what else the batch
    is told (`calls`) until the transaction commits."""
    if not event_ids:
        return None
    row = ArchiveBatchRow(
        worker=worker,
        event_ids=list(event_ids),
        first_event_at=min(times),
        last_event_at=max(times),
        recorded_at=clock.wall_clock(),  # operations only: nothing compares it
        manifest_seq=await visible_version_seq(session),
        booking_seq=await visible_booking_seq(session),
        watermark=watermark,
    )
    session.add(row)
    await session.flush()
    return row


async def batches_in_range(
    *, session: AsyncSession, start: datetime, end: datetime
) -> list[RecordedBatch]:
    """The batches that hold an event in [start, end), in the order they committed."""
    rows = (
        await session.scalars(
            select(ArchiveBatchRow)
            .where(ArchiveBatchRow.last_event_at >= start, ArchiveBatchRow.first_event_at < end)
            .order_by(ArchiveBatchRow.seq)
        )
    ).all()
    return [
        RecordedBatch(
            seq=r.seq,
            worker=r.worker,
            event_ids=tuple(r.event_ids),
            first_event_at=r.first_event_at,
            last_event_at=r.last_event_at,
            recorded_at=r.recorded_at,
            manifest_seq=r.manifest_seq,
            booking_seq=r.booking_seq,
            calls=r.calls,
            watermark=r.watermark,
        )
        for r in rows
    ]
