"""The audit log indexed by what an entry is about (`gate_id, target, action, at`): the
control room looks up the hold that made each held review item's decision
(`services.db.audit.made_by`, on every snapshot and review page) and a lane's or a
carrier's change not applied yet (`pending_lane_change`, on every lane action, since a
minute before). Before, each read the whole audit log, months of controllers' actions.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_gate_target", "audit_log", ["gate_id", "target", "action", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_gate_target", table_name="audit_log")
