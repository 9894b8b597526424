"""The release of a truck an alert held (`alerts.released_by`, `released_at`,
`release_reason`): a controller's release of the held truck is kept with the alert, so the
control room shows the truck released, by whom and when, instead of "truck held" (until
now the alert said "truck held" after the truck had gone to its lane).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.db.types import UTCDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as table:
        table.add_column(sa.Column("released_by", sa.String(64), nullable=True))
        table.add_column(sa.Column("released_at", UTCDateTime(), nullable=True))
        table.add_column(sa.Column("release_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as table:
        table.drop_column("release_reason")
        table.drop_column("released_at")
        table.drop_column("released_by")
