"""How a controller ended an alert's hold of its truck (`alerts.released_as`): "released"
(placed in a lane) or "turned_away" (refused entry). Until now only the actions that place
the truck marked the alert, so a held truck turned away left its alert saying "truck held".
Null on the rows before: a release kept then was a release.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as table:
        table.add_column(sa.Column("released_as", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as table:
        table.drop_column("released_as")
