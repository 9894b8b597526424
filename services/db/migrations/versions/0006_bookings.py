"""Slot bookings: bookings (one active a manifest, by a partial unique index), slot counts
(capacity taken by conditional UPDATEs), idempotency keys, the booking-event outbox and
per-firm no-show counts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.db.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    op.create_table(
        "bookings",
        sa.Column("booking_id", sa.String(64), primary_key=True),
        sa.Column("firm_id", sa.String(64), nullable=False),
        sa.Column("manifest_id", sa.String(64), nullable=False),
        sa.Column("gate_id", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("slot_start", UTCDateTime(), nullable=False),
        sa.Column("slot_end", UTCDateTime(), nullable=False),
        sa.Column("perishable", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1")),
    )
    op.create_index(
        "ux_bookings_active_manifest",
        "bookings",
        ["manifest_id"],
        unique=True,
        postgresql_where=_ACTIVE,
        sqlite_where=_ACTIVE,
    )
    op.create_index("ix_bookings_firm", "bookings", ["firm_id", "booking_id"])
    op.create_index("ix_bookings_status_end", "bookings", ["status", "slot_end"])
    op.create_index("ix_bookings_manifest", "bookings", ["manifest_id"])
    op.create_table(
        "slot_counts",
        sa.Column("gate_id", sa.String(64), primary_key=True),
        sa.Column("direction", sa.String(16), primary_key=True),
        sa.Column("slot_start", UTCDateTime(), primary_key=True),
        sa.Column("booked", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("booked_perishable", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.CheckConstraint("booked >= 0 AND booked_perishable >= 0", name="ck_slot_counts_pos"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("firm_id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("booking_id", sa.String(64)),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", sa.JSON),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "booking_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("booking_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime()),
    )
    op.create_index(
        "ix_booking_events_unpublished", "booking_events", ["published_at", "occurred_at"]
    )
    op.create_table(
        "firm_booking_stats",
        sa.Column("firm_id", sa.String(64), primary_key=True),
        sa.Column("no_shows", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("lost_late", sa.Integer, nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    op.drop_table("firm_booking_stats")
    op.drop_index("ix_booking_events_unpublished", table_name="booking_events")
    op.drop_table("booking_events")
    op.drop_table("idempotency_keys")
    op.drop_table("slot_counts")
    for name in (
        "ix_bookings_manifest",
        "ix_bookings_status_end",
        "ix_bookings_firm",
        "ux_bookings_active_manifest",
    ):
        op.drop_index(name, table_name="bookings")
    op.drop_table("bookings")
