"""Initial schema: gates, lanes, manifests, plate reads, visits, tracks, decisions.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.db.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gates",
        sa.Column("gate_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "lanes",
        sa.Column("lane_id", sa.String(64), primary_key=True),
        sa.Column("gate_id", sa.String(64), sa.ForeignKey("gates.gate_id"), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("service_seconds", sa.Integer, nullable=False),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("free_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_lanes_gate_id", "lanes", ["gate_id"])
    op.create_table(
        "manifests",
        sa.Column("manifest_id", sa.String(64), primary_key=True),
        sa.Column("firm_id", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("tractor_plate", sa.String(32), nullable=False),
        sa.Column("trailer_plate", sa.String(32), nullable=True),
        sa.Column("containers", sa.JSON, nullable=False),
        sa.Column("cargo_description", sa.Text, nullable=False),
        sa.Column("perishable", sa.Boolean, nullable=False),
        sa.Column("hazmat_class", sa.String(16), nullable=True),
        sa.Column("customs_status", sa.String(16), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=True),
        sa.Column("window_end", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_manifests_firm_id", "manifests", ["firm_id"])
    op.create_index("ix_manifests_tractor_plate", "manifests", ["tractor_plate"])
    op.create_table(
        "plate_reads",
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("gate_id", sa.String(64), nullable=False),
        sa.Column("captured_at", UTCDateTime(), nullable=False),
        sa.Column("plate_text", sa.String(32), nullable=False),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("visit_id", sa.String(64), nullable=False),
        sa.Column("source_topic", sa.String(255), nullable=False),
        sa.Column("source_partition", sa.Integer, nullable=False),
        sa.Column("source_offset", sa.Integer, nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_plate_reads_visit_id", "plate_reads", ["visit_id"])
    op.create_table(
        "visits",
        sa.Column("visit_id", sa.String(64), primary_key=True),
        sa.Column("gate_id", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("read_count", sa.Integer, nullable=False),
    )
    op.create_index("ix_visits_gate_last_seen", "visits", ["gate_id", "last_seen_at"])
    op.create_table(
        "plate_tracks",
        sa.Column("gate_id", sa.String(64), primary_key=True),
        sa.Column("plate", sa.String(32), primary_key=True),
        sa.Column("visit_id", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("read_count", sa.Integer, nullable=False),
    )
    op.create_table(
        "lane_decisions",
        sa.Column("decision_id", sa.String(64), primary_key=True),
        sa.Column("visit_id", sa.String(64), nullable=False, unique=True),
        sa.Column("gate_id", sa.String(64), nullable=False),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("manifest_id", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("match_outcome", sa.String(16), nullable=False),
        sa.Column("match_score", sa.Float, nullable=False),
        sa.Column("lane_id", sa.String(64), nullable=True),
        sa.Column("carrier_slot", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.Column("expected_start_at", UTCDateTime(), nullable=True),
        sa.Column("expected_done_at", UTCDateTime(), nullable=True),
        sa.Column("read_event_ids", sa.JSON, nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_decisions_gate_done", "lane_decisions", ["gate_id", "expected_done_at"])
    op.create_index("ix_decisions_unpublished", "lane_decisions", ["published_at"])
    op.create_index("ix_decisions_gate_decided", "lane_decisions", ["gate_id", "decided_at"])


def downgrade() -> None:
    for table in (
        "lane_decisions",
        "plate_tracks",
        "visits",
        "plate_reads",
        "manifests",
        "lanes",
        "gates",
    ):
        op.drop_table(table)
