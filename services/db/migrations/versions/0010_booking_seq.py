"""What a batch knew of the bookings (issue 17, as 0009 for the manifests): every booking
event gets a sequence number as it is written, and every recorded batch the highest one
visible to it, so a replay hands each batch the bookings it saw live.

PostgreSQL numbers them from a sequence (no lock: a booking transaction and a decision batch
already lock each other's rows); SQLite, which has one writer at a time, takes the next
number. Existing rows are numbered in the order they occurred; a batch is given the highest
number of the events that occurred before it committed (the best the old rows allow).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("booking_events", sa.Column("seq", sa.BigInteger, nullable=True))
    op.execute(
        """
        UPDATE booking_events SET seq = (
            SELECT r.n FROM (
                SELECT event_id, ROW_NUMBER() OVER (ORDER BY occurred_at, event_id) AS n
                FROM booking_events
            ) AS r
            WHERE r.event_id = booking_events.event_id
        )
        """
    )
    op.create_index("ux_booking_events_seq", "booking_events", ["seq"], unique=True)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE booking_event_seq")
        op.execute(
            "SELECT setval('booking_event_seq', "
            "COALESCE((SELECT MAX(seq) FROM booking_events), 0) + 1, false)"
        )
        op.execute(
            "ALTER TABLE booking_events ALTER COLUMN seq SET DEFAULT nextval('booking_event_seq')"
        )
    op.add_column("archive_batches", sa.Column("booking_seq", sa.BigInteger, nullable=True))
    op.execute(
        """
        UPDATE archive_batches SET booking_seq = (
            SELECT COALESCE(MAX(e.seq), 0) FROM booking_events AS e
            WHERE e.occurred_at <= archive_batches.recorded_at
        )
        """
    )


def downgrade() -> None:
    op.drop_column("archive_batches", "booking_seq")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE booking_events ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE booking_event_seq")
    op.drop_index("ux_booking_events_seq", table_name="booking_events")
    op.drop_column("booking_events", "seq")
