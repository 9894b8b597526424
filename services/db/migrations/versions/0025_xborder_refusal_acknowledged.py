"""Whether the sender was sent an ack of a refused record (`xborder_refusals.acknowledged`):
a record refused as `invalid` whose header could not be read has no place in the sequence
and no ack, though what it says it is (id, type) is now kept; the old rule (an invalid one
with a type was acknowledged) would call it acknowledged. Null on the rows before: the old
rule holds for them (those with no place kept no type).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("xborder_refusals") as table:
        table.add_column(sa.Column("acknowledged", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("xborder_refusals") as table:
        table.drop_column("acknowledged")
