"""The event archive: every event consumed or produced, with its Kafka coordinates, and the
batches the deciding workers handled (issue 7).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.db.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "event_archive",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("key", sa.LargeBinary, nullable=True),
        sa.Column("value", sa.LargeBinary, nullable=True),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("event_id", sa.String(200), nullable=True),
        sa.Column("event_time", UTCDateTime(), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint(
            "topic", "partition", "offset", "timestamp_ms", name="ux_archive_coord"
        ),
    )
    op.create_index("ix_archive_time", "event_archive", ["event_time"])
    op.create_index("ix_archive_topic_time", "event_archive", ["topic", "event_time"])
    op.create_index("ix_archive_event_id", "event_archive", ["event_id"])
    op.create_table(
        "archive_batches",
        sa.Column("seq", _ID, primary_key=True, autoincrement=True),
        sa.Column("worker", sa.String(32), nullable=False),
        sa.Column("event_ids", sa.JSON, nullable=False),
        sa.Column("first_event_at", UTCDateTime(), nullable=False),
        sa.Column("last_event_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_archive_batches_time", "archive_batches", ["first_event_at"])


def downgrade() -> None:
    op.drop_index("ix_archive_batches_time", table_name="archive_batches")
    op.drop_table("archive_batches")
    op.drop_index("ix_archive_event_id", table_name="event_archive")
    op.drop_index("ix_archive_topic_time", table_name="event_archive")
    op.drop_index("ix_archive_time", table_name="event_archive")
    op.drop_table("event_archive")
