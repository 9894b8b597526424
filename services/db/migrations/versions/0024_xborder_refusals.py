"""The other side's records refused by the receiver, every kind, with the reason
(`xborder_refusals`): the control room lists them (`GET /v1/xborder/state`, `refused`);
until now only the dead-letter topic had them, read with a Kafka client.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.db.types import UTCDateTime

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "xborder_refusals",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("sender", sa.String(8), nullable=False),
        sa.Column("message_id", sa.String(160), nullable=True),
        sa.Column("sequence", sa.BigInteger, nullable=True),
        sa.Column("message_type", sa.String(64), nullable=True),
        sa.Column("crossing_id", sa.String(160), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
    )
    op.create_index("ix_xborder_refusals_source", "xborder_refusals", ["source"])


def downgrade() -> None:
    op.drop_index("ix_xborder_refusals_source", table_name="xborder_refusals")
    op.drop_table("xborder_refusals")
