"""Risk alerts (issue 22): the alerts raised, with the controllers' workflow status, and the
weigh-in-motion measures.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.db.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(64), primary_key=True),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("gate_id", sa.String(64), nullable=True),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("hold", sa.Boolean, nullable=False),
        sa.Column("held_visit_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_by", sa.String(64), nullable=True),
        sa.Column("status_reason", sa.Text, nullable=True),
        sa.Column("status_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'escalated', 'dismissed')",
            name="ck_alerts_status",
        ),
    )
    op.create_index("ix_alerts_gate_raised", "alerts", ["gate_id", "raised_at"])
    op.create_index("ix_alerts_unpublished", "alerts", ["published_at"])
    op.create_table(
        "weighings",
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("gate_id", sa.String(64), nullable=False),
        sa.Column("captured_at", UTCDateTime(), nullable=False),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("gross_weight_kg", sa.Float, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_weighings_gate_at", "weighings", ["gate_id", "captured_at"])


def downgrade() -> None:
    op.drop_index("ix_weighings_gate_at", table_name="weighings")
    op.drop_table("weighings")
    op.drop_index("ix_alerts_unpublished", table_name="alerts")
    op.drop_index("ix_alerts_gate_raised", table_name="alerts")
    op.drop_table("alerts")
