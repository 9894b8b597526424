"""When each manifest version counts for the risk alerts' rules, on the events' clock
(`manifest_versions.clock_at`): the system's event-time clock when the version was stored
(the newest read decided by then; null when none was: the version counts from the start).
Until now the rules took the wall-clock `recorded_at` and compared it with the reads' event
time, so a manifest filed today was "not yet received" for a truck read on any earlier day.
The rows before keep what they counted from: `recorded_at`.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.db.types import UTCDateTime

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("manifest_versions") as table:
        table.add_column(sa.Column("clock_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE manifest_versions SET clock_at = recorded_at")


def downgrade() -> None:
    with op.batch_alter_table("manifest_versions") as table:
        table.drop_column("clock_at")
