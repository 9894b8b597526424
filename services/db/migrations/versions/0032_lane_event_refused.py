"""A held lane event the board refuses when the gate's reads reach its time is kept with
the reason (`lane_events.refused`) until the lane-event worker has dead-lettered it to
`borderflow.lane-events.dlq`; the decider, which applies held events, does not write that
topic. Until now such an event was logged and forgotten. Every event stored before: null.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lane_events") as table:
        table.add_column(sa.Column("refused", sa.Text(), nullable=True))
    op.create_index(
        "ix_lane_events_refused",
        "lane_events",
        ["event_id"],
        postgresql_where=sa.text("refused IS NOT NULL"),
        sqlite_where=sa.text("refused IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_lane_events_refused", table_name="lane_events")
    with op.batch_alter_table("lane_events") as table:
        table.drop_column("refused")
