"""The driver's mobile number with a booking's page (issue 23: a call's SMS goes there):
given by the firm with the booking, kept with the driver's page, never published.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("driver_pages", sa.Column("phone", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("driver_pages") as table:
        table.drop_column("phone")
