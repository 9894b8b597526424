"""The cross-border exchange (issue 21): the signed messages this side sends (store and
forward), those it applied from the other side (exactly once per message id, in the
transaction of their effect), the sequence counters, and the crossings.

Revision ID: 0014
Revises: 0012 (0013 was reserved and not used)
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.db.types import UTCDateTime

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "xborder_outbox",
        sa.Column("sequence", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("message_id", sa.String(160), nullable=False, unique=True),
        sa.Column("source_event_id", sa.String(160), nullable=True, unique=True),
        sa.Column("message_type", sa.String(64), nullable=False),
        sa.Column("crossing_id", sa.String(160), nullable=False),
        sa.Column("envelope", sa.Text, nullable=False),
        sa.Column("event_time", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("acked_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_xborder_outbox_unsent", "xborder_outbox", ["sent_at", "sequence"])
    op.create_table(
        "xborder_inbox",
        sa.Column("message_id", sa.String(160), primary_key=True),
        sa.Column("sender", sa.String(8), nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("message_type", sa.String(64), nullable=False),
        sa.Column("crossing_id", sa.String(160), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("event_time", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("source", sa.String(300), nullable=True),
    )
    op.create_index(
        "ux_xborder_inbox_sender_seq", "xborder_inbox", ["sender", "sequence"], unique=True
    )
    op.create_table(
        "xborder_sequences",
        sa.Column("side", sa.String(8), primary_key=True),
        sa.Column("role", sa.String(16), primary_key=True),
        sa.Column("last", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "xborder_crossings",
        sa.Column("crossing_id", sa.String(160), primary_key=True),
        sa.Column("from_side", sa.String(8), nullable=False),
        sa.Column("from_gate", sa.String(64)),
        sa.Column("to_gate", sa.String(64)),
        sa.Column("direction", sa.String(16)),
        sa.Column("notice_message_id", sa.String(160)),
        sa.Column("notice_at", UTCDateTime()),
        sa.Column("notice_truck", sa.JSON),
        sa.Column("booked_slot_start", UTCDateTime()),
        sa.Column("booked_slot_end", UTCDateTime()),
        sa.Column("exit_message_id", sa.String(160)),
        sa.Column("exit_at", UTCDateTime()),
        sa.Column("exit_mode", sa.String(32)),
        sa.Column("exit_truck", sa.JSON),
        sa.Column("entry_message_id", sa.String(160)),
        sa.Column("entry_at", UTCDateTime()),
        sa.Column("entry_truck", sa.JSON),
    )
    op.create_index("ix_xborder_crossings_open", "xborder_crossings", ["from_side", "entry_at"])
    op.create_table(
        "xborder_alert_acks",
        sa.Column("alert_id", sa.String(200), primary_key=True),
        sa.Column("acknowledged_by", sa.String(64), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("xborder_alert_acks")
    op.drop_table("xborder_crossings")
    op.drop_table("xborder_sequences")
    op.drop_table("xborder_inbox")
    op.drop_table("xborder_outbox")
