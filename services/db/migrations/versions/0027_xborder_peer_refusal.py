"""The other side's refusal of one of this side's messages, kept on the message
(`xborder_outbox.peer_refused_at`, `peer_refused_kind`, `peer_refusal`): the receiver now
sends back a `borderflow.xborder.refusal` naming the message and the reason, and the
control room lists the messages refused by the other side. Until now the sender was told
nothing (the refusal was listed on the receiving side only).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.db.types import UTCDateTime

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("xborder_outbox") as table:
        table.add_column(sa.Column("peer_refused_at", UTCDateTime(), nullable=True))
        table.add_column(sa.Column("peer_refused_kind", sa.String(32), nullable=True))
        table.add_column(sa.Column("peer_refusal", sa.Text(), nullable=True))
    op.create_index("ix_xborder_outbox_peer_refused", "xborder_outbox", ["peer_refused_at"])


def downgrade() -> None:
    op.drop_index("ix_xborder_outbox_peer_refused", table_name="xborder_outbox")
    with op.batch_alter_table("xborder_outbox") as table:
        table.drop_column("peer_refusal")
        table.drop_column("peer_refused_kind")
        table.drop_column("peer_refused_at")
