"""The orchestrator's state: each gate's board, the lane events applied to it, and decision
revisions (a re-planned truck gets a new decision for the same visit).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.db.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gate_boards",
        sa.Column("gate_id", sa.String(64), primary_key=True),
        sa.Column("board", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False, server_default=sa.text("0")),
    )
    op.create_table(
        "lane_events",
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("gate_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_lane_events_gate_at", "lane_events", ["gate_id", "at"])
    with op.batch_alter_table("lane_decisions") as batch:
        batch.add_column(
            sa.Column("revision", sa.Integer, nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("lane_decisions") as batch:
        batch.drop_column("revision")
    op.drop_index("ix_lane_events_gate_at", table_name="lane_events")
    op.drop_table("lane_events")
    op.drop_table("gate_boards")
