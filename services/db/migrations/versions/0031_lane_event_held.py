"""A lane event dated ahead of the gate's reads is kept (`lane_events.held`) and applied
when the reads reach its time, by the decider before it decides a later read
(services/service_layer/lane_events.py): until now it was applied when it came, so a
`lane_closed` stamped a year ahead (a gateway whose clock is off, a later day's events sent
before an earlier day's reads) shut the lane for the trucks read today. Every event stored
before was applied: false.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lane_events") as table:
        table.add_column(sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index(
        "ix_lane_events_held",
        "lane_events",
        ["gate_id", "at"],
        postgresql_where=sa.text("held"),
        sqlite_where=sa.text("held"),
    )


def downgrade() -> None:
    op.drop_index("ix_lane_events_held", table_name="lane_events")
    with op.batch_alter_table("lane_events") as table:
        table.drop_column("held")
