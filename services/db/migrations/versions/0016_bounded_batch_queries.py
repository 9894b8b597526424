"""Indexes so that no query of a decide batch or of the lane-event worker reads the history
(issue 26 item 5, docs/performance.md): the alert step's plate reads of a gate within its
look-back (`gate_id, captured_at`) and booking events since its look-back (`occurred_at`);
the latest decision about a plate or a manifest at a gate, for a holding alert; and the
open holding alerts about a truck's subjects (`gate_id, subject`). Before, each of these
read every row of its table (or of the gate's) on every batch.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_plate_reads_gate_captured", "plate_reads", ["gate_id", "captured_at"]),
    ("ix_booking_events_occurred", "booking_events", ["occurred_at"]),
    ("ix_decisions_gate_plate", "lane_decisions", ["gate_id", "plate", "decided_at"]),
    ("ix_decisions_gate_manifest", "lane_decisions", ["gate_id", "manifest_id", "decided_at"]),
    ("ix_alerts_gate_subject", "alerts", ["gate_id", "subject"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
