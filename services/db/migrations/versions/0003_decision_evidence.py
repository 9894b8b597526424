"""Decisions keep the matcher's evidence (the manifests it weighed, with their scores), and a
table of facts about the stored data (the plate-key scheme the keys were built with).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "borderflow_meta",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )
    with op.batch_alter_table("lane_decisions") as batch:
        batch.add_column(
            sa.Column("match_candidates", sa.JSON, nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    op.drop_table("borderflow_meta")
    with op.batch_alter_table("lane_decisions") as batch:
        batch.drop_column("match_candidates")
