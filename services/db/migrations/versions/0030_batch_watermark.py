"""Each recorded decider batch keeps its input's watermark (`archive_batches.watermark`):
up to when every partition of the plate reads had been read when it was handled
(streams/watermark.py). The alert rules judge no later than it, live, so that a truck is
not lost for an exit read still in another partition; the replay judges each batch at the
same times. Null when every partition had been read to its end, and on the rows before:
those batches were judged at the gate's clock, as a null one is.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.db.types import UTCDateTime

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("archive_batches") as table:
        table.add_column(sa.Column("watermark", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("archive_batches") as table:
        table.drop_column("watermark")
