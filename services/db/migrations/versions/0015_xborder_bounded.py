"""Cross-border crossings read without scanning the history: each crossing's latest event
time (`last_at`, the gate clock is its maximum and the newest crossings are read by it)
and whether its entry differs from what was announced (`mismatch`), so the control room
reads the crossings that can carry an alert (left and not entered, or mismatched) and the
newest few, not every crossing ever recorded. And the highest transmission of each
message applied (`xborder_inbox.attempt`): the sender's resends are told from replays.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from services.db.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("xborder_crossings") as table:
        table.add_column(sa.Column("last_at", UTCDateTime(), nullable=True))
        table.add_column(
            sa.Column("mismatch", sa.Boolean, nullable=False, server_default=sa.false())
        )
    _backfill()
    with op.batch_alter_table("xborder_inbox") as table:
        table.add_column(sa.Column("attempt", sa.Integer, nullable=False, server_default="1"))
    op.create_index("ix_xborder_crossings_last_at", "xborder_crossings", ["last_at"])
    op.create_index("ix_xborder_crossings_mismatch", "xborder_crossings", ["mismatch"])


def _backfill() -> None:
    """The two columns of the crossings recorded before this revision, by the same code
    that keeps them current (`services.xborder.store.derived`)."""
    from services.xborder.store import derived  # noqa: PLC0415 (the app's rule, once)

    bind = op.get_bind()
    times = ("notice_at", "exit_at", "entry_at")
    crossings = sa.table(
        "xborder_crossings",
        sa.column("crossing_id", sa.String),
        sa.column("from_side", sa.String),
        *(sa.column(f"{fact}_message_id", sa.String) for fact in ("notice", "exit", "entry")),
        *(sa.column(name, UTCDateTime()) for name in times),
        *(sa.column(f"{fact}_truck", sa.JSON) for fact in ("notice", "exit", "entry")),
        sa.column("last_at", UTCDateTime()),
        sa.column("mismatch", sa.Boolean),
    )
    for row in bind.execute(sa.select(crossings)).all():
        last_at, mismatch = derived(SimpleNamespace(**row._mapping))
        bind.execute(
            crossings.update()
            .where(crossings.c.crossing_id == row.crossing_id)
            .values(last_at=last_at, mismatch=mismatch)
        )


def downgrade() -> None:
    with op.batch_alter_table("xborder_inbox") as table:
        table.drop_column("attempt")
    op.drop_index("ix_xborder_crossings_mismatch", "xborder_crossings")
    op.drop_index("ix_xborder_crossings_last_at", "xborder_crossings")
    with op.batch_alter_table("xborder_crossings") as table:
        table.drop_column("mismatch")
        table.drop_column("last_at")
