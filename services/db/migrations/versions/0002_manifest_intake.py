"""Manifest intake: manifest versions and source, the plate-key index, firms and API keys.

Existing manifests (seeded before this revision) get version 1, source "simulator", their
history row and their plate keys, so the matcher finds them like any new one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from lanes.similarity import index_keys
from services.db.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("manifests") as batch:
        batch.add_column(
            sa.Column("hs_codes", sa.JSON, nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(sa.Column("gross_weight_kg", sa.Float, nullable=True))
        batch.add_column(
            sa.Column("version", sa.Integer, nullable=False, server_default=sa.text("1"))
        )
        batch.add_column(
            sa.Column("source", sa.String(16), nullable=False, server_default="simulator")
        )
        batch.add_column(sa.Column("updated_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE manifests SET updated_at = created_at")
    with op.batch_alter_table("manifests") as batch:
        batch.alter_column("updated_at", existing_type=UTCDateTime(), nullable=False)

    versions = op.create_table(
        "manifest_versions",
        sa.Column("manifest_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("firm_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    keys = op.create_table(
        "manifest_plate_keys",
        sa.Column("key", sa.String(24), primary_key=True),
        sa.Column("manifest_id", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(8), primary_key=True),
    )
    op.create_index("ix_manifest_plate_keys_manifest_id", "manifest_plate_keys", ["manifest_id"])
    op.create_table(
        "firms",
        sa.Column("firm_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("firm_id", sa.String(64), sa.ForeignKey("firms.firm_id"), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_api_keys_firm_id", "api_keys", ["firm_id"])
    _backfill(versions, keys)


def _backfill(versions: sa.Table, keys: sa.Table) -> None:
    """History rows and plate keys for the manifests that predate this revision."""
    m = sa.table(
        "manifests",
        *(
            sa.column(name)
            for name in (
                "manifest_id",
                "firm_id",
                "direction",
                "tractor_plate",
                "trailer_plate",
                "cargo_description",
                "perishable",
                "hazmat_class",
                "customs_status",
            )
        ),
        sa.column("containers", sa.JSON),
        sa.column("window_start", UTCDateTime()),
        sa.column("window_end", UTCDateTime()),
        sa.column("created_at", UTCDateTime()),
    )
    rows = op.get_bind().execute(sa.select(m)).mappings().all()
    history: list[dict[str, Any]] = []
    plate_keys: list[dict[str, Any]] = []
    for row in rows:
        history.append(
            {
                "manifest_id": row["manifest_id"],
                "version": 1,
                "firm_id": row["firm_id"],
                "payload": _payload(row),
                "source": "simulator",
                "recorded_at": row["created_at"],
            }
        )
        for role, plate in (("tractor", row["tractor_plate"]), ("trailer", row["trailer_plate"])):
            plate_keys += [
                {"key": key, "manifest_id": row["manifest_id"], "role": role}
                for key in sorted(index_keys(plate or ""))
            ]
    for chunk in range(0, len(history), 500):
        op.bulk_insert(versions, history[chunk : chunk + 500])
    for chunk in range(0, len(plate_keys), 5000):
        op.bulk_insert(keys, plate_keys[chunk : chunk + 5000])


def _payload(row: Any) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "manifest_id": row["manifest_id"],
        "firm_id": row["firm_id"],
        "direction": row["direction"],
        "tractor_plate": row["tractor_plate"],
        "trailer_plate": row["trailer_plate"],
        "containers": list(row["containers"] or ()),
        "cargo": {"description": row["cargo_description"], "hs_codes": [], "gross_weight_kg": None},
        "perishable": bool(row["perishable"]),
        "hazmat_class": row["hazmat_class"],
        "customs_status": row["customs_status"],
        "window_start": when(row["window_start"]),
        "window_end": when(row["window_end"]),
    }


def downgrade() -> None:
    for table in ("api_keys", "firms", "manifest_plate_keys", "manifest_versions"):
        op.drop_table(table)
    with op.batch_alter_table("manifests") as batch:
        for column in ("updated_at", "source", "version", "gross_weight_kg", "hs_codes"):
            batch.drop_column(column)
