"""The calls' outbox (`call_events`): the call-forward worker writes each call, recall and
lost place in its batch's transaction and publishes it on `borderflow.calls` after the
commit (it published them as it decided them, inside the transaction: a batch rolled back
had published calls for a queue never saved).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.db.types import UTCDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.String(160), nullable=False, unique=True),
        sa.Column("visit_id", sa.String(128), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_call_events_unpublished", "call_events", ["published_at", "seq"])


def downgrade() -> None:
    op.drop_index("ix_call_events_unpublished", table_name="call_events")
    op.drop_table("call_events")
