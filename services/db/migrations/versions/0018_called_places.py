"""Called places (issue 23): each truck's latest call by gate and manifest, written by the
call-forward worker, read by the gate's decider to send a called truck where it was called;
and, on each recorded decider batch, the calls it was given (`archive_batches.calls`), so
the replay gives it the same.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.db.types import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "called_places",
        sa.Column("gate_id", sa.String(64), primary_key=True),
        sa.Column("manifest_id", sa.String(64), primary_key=True),
        sa.Column("call_id", sa.String(160), nullable=False),
        sa.Column("lane_id", sa.String(64), nullable=False),
        sa.Column("called_at", UTCDateTime(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("arrived", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_called_places_deadline", "called_places", ["gate_id", "deadline"])
    op.add_column("archive_batches", sa.Column("calls", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("archive_batches") as table:
        table.drop_column("calls")
    op.drop_index("ix_called_places_deadline", table_name="called_places")
    op.drop_table("called_places")
