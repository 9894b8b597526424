"""Cross-border crossings indexed by the side they left and their exit time: the clocks'
estimate (`lanes.crossing_clocks.estimate_skew`) reads the latest trucks that left
Vietnam by Vietnam's stamp, their exit, as it reads those that left China by their entry
(`ix_xborder_crossings_open`), not the whole history.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_xborder_crossings_left", "xborder_crossings", ["from_side", "exit_at"])


def downgrade() -> None:
    op.drop_index("ix_xborder_crossings_left", "xborder_crossings")
