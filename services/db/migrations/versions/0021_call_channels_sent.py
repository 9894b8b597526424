"""The channels a call was sent on (`call_notifications.sent`: `sms`, `webhook`, comma
separated), kept with the call while the other is retried: a notifier restarted between
them sent the driver the call's SMS again (the channels taken were in its memory only).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_notifications") as table:
        table.add_column(sa.Column("sent", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_notifications") as table:
        table.drop_column("sent")
