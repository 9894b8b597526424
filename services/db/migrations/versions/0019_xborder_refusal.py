"""Cross-border messages received and refused as not valid (`xborder_inbox.refusal`): a
signed message of the other side that is not a valid message takes its place in its
sender's sequence with no effect, so the messages after it are applied (until now it was
refused without a place and every later message was refused as `reordered`, for ever).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("xborder_inbox") as table:
        table.add_column(sa.Column("refusal", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("xborder_inbox") as table:
        table.drop_column("refusal")
