"""Call notifications (issue 23): one row a call forward from a waiting area, by call id
(the idempotency key: a call is sent once), with its delivery attempts; the drivers'
pages (one row a page, by token), the call-forward queue's snapshot (one row a gate)
and the firms' call settings (their webhook URL).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.db.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_notifications",
        sa.Column("call_id", sa.String(160), primary_key=True),
        sa.Column("visit_id", sa.String(128), nullable=False),
        sa.Column("gate_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index(
        "ix_call_notifications_due", "call_notifications", ["delivered_at", "next_attempt_at"]
    )
    op.create_table(
        "driver_pages",
        sa.Column("token", sa.String(32), primary_key=True),
        sa.Column("page_key", sa.String(160), nullable=False, unique=True),
        sa.Column("code", sa.String(8), nullable=False, unique=True),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("visit_id", sa.String(128), nullable=True, index=True),
        sa.Column("language", sa.String(8), nullable=True),
    )
    op.create_table(
        "firm_settings",
        sa.Column("firm_id", sa.String(64), primary_key=True),
        sa.Column("webhook_url", sa.String(2000), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "callforward_queues",
        sa.Column("gate_id", sa.String(64), primary_key=True),
        sa.Column("snapshot", sa.JSON, nullable=False),
        sa.Column("event_time", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("firm_settings")
    op.drop_table("callforward_queues")
    op.drop_table("driver_pages")
    op.drop_index("ix_call_notifications_due", table_name="call_notifications")
    op.drop_table("call_notifications")
