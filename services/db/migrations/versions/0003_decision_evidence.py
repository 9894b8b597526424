"""Decisions keep the matcher's evidence: the manifests it weighed, with their scores.

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
    with op.batch_alter_table("lane_decisions") as batch:
        batch.add_column(
            sa.Column("match_candidates", sa.JSON, nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("lane_decisions") as batch:
        batch.drop_column("match_candidates")
