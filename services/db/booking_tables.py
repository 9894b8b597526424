"""ORM rows of slot bookings (persistence only): bookings, per-slot counts (the capacity
guard), idempotency keys, the booking-event outbox and per-firm no-show counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from services.db.tables import Base

ACTIVE_ONLY = text("status = 'active'")


class BookingRow(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        # at most one active booking a manifest: a database guard, not a check-then-insert
        Index(
            "ux_bookings_active_manifest",
            "manifest_id",
            unique=True,
            postgresql_where=ACTIVE_ONLY,
            sqlite_where=ACTIVE_ONLY,
        ),
        Index("ix_bookings_firm", "firm_id", "booking_id"),
        Index("ix_bookings_status_end", "status", "slot_end"),
        Index("ix_bookings_manifest", "manifest_id"),
    )
    booking_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    firm_id: Mapped[str] = mapped_column(String(64))
    manifest_id: Mapped[str] = mapped_column(String(64))
    gate_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(16))
    slot_start: Mapped[datetime]
    slot_end: Mapped[datetime]
    perishable: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)


class SlotCountRow(Base):
    """What is booked of one slot; taken and released by conditional UPDATEs only."""

    __tablename__ = "slot_counts"
    gate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    direction: Mapped[str] = mapped_column(String(16), primary_key=True)
    slot_start: Mapped[datetime] = mapped_column(primary_key=True)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    booked_perishable: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyKeyRow(Base):
    __tablename__ = "idempotency_keys"
    firm_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    booking_id: Mapped[str | None] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]


class BookingEventRow(Base):
    """The outbox: written in the changing transaction, published after it commits."""

    __tablename__ = "booking_events"
    __table_args__ = (
        Index("ix_booking_events_unpublished", "published_at", "occurred_at"),
        Index("ux_booking_events_seq", "seq", unique=True),
        Index("ix_booking_events_occurred", "occurred_at"),  # the alert step's look-back
    )
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    booking_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    # the order events were written in (PostgreSQL: a sequence, migration 0010; SQLite: the
    # next number under its single writer): a decision batch saw those up to its booking_seq
    seq: Mapped[int | None] = mapped_column(BigInteger)


class FirmBookingStatsRow(Base):
    __tablename__ = "firm_booking_stats"
    firm_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    no_shows: Mapped[int] = mapped_column(Integer, default=0)
    lost_late: Mapped[int] = mapped_column(Integer, default=0)
