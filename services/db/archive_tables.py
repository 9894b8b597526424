"""Rows of the event archive (issue 7): every record borderflow consumes or produces, with
its Kafka coordinates, and the batches the deciding workers handled (the replay's input
boundaries: a visit is decided on the reads of the batch that opened it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.db.tables import Base


class ArchivedEventRow(Base):
    """One Kafka record as it was on the topic: key, value and headers byte for byte
    (headers as `[[name, base64]]`), the broker's timestamp and the event time read from
    the payload (`captured_at`, `at`, `occurred_at`, ...; the broker's when it has none)."""

    __tablename__ = "event_archive"
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    topic: Mapped[str] = mapped_column(String(200))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[bytes | None] = mapped_column(LargeBinary)
    value: Mapped[bytes | None] = mapped_column(LargeBinary)
    headers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    event_id: Mapped[str | None] = mapped_column(String(200))
    event_time: Mapped[datetime]
    archived_at: Mapped[datetime]

    __table_args__ = (
        # a redelivered record is archived once; the embedded broker restarts its offsets
        # at 0, so the broker timestamp tells a new record at an old offset apart
        UniqueConstraint("topic", "partition", "offset", "timestamp_ms", name="ux_archive_coord"),
        Index("ix_archive_time", "event_time"),
        Index("ix_archive_topic_time", "topic", "event_time"),
        Index("ix_archive_event_id", "event_id"),
    )


class ArchiveBatchRow(Base):
    """One batch a deciding worker handled, in the order the batches committed (`seq`):
    the event ids it held, as handled. Written in the batch's own transaction."""

    __tablename__ = "archive_batches"
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    worker: Mapped[str] = mapped_column(String(32))  # decider, lane-events
    event_ids: Mapped[list[str]] = mapped_column(JSON)
    first_event_at: Mapped[datetime]
    last_event_at: Mapped[datetime]
    recorded_at: Mapped[datetime]  # wall clock (operations only)
    # the highest manifest version `seq` visible to the batch: the manifests it was decided
    # with (None only on rows older than migration 0009 that it could not number)
    manifest_seq: Mapped[int | None] = mapped_column(BigInteger)
    # likewise the highest booking event `seq` visible to it (migration 0010)
    booking_seq: Mapped[int | None] = mapped_column(BigInteger)
    # the calls it was told of, by gate (`services.archive.store.calls_json`; migration 0018):
    # None when it asked for none
    calls: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # up to when every partition of its input had been read (streams/watermark.py;
    # migration 0030): None when all of them had, or on rows before it
    watermark: Mapped[datetime | None]

    __table_args__ = (Index("ix_archive_batches_time", "first_event_at"),)
