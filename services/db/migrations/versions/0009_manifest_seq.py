"""What a batch knew of the manifests, without comparing clocks (issue 17): every manifest
version gets a sequence number in the order versions were committed, and every recorded
batch the highest number visible to it. A replay hands a batch exactly the versions it saw,
whatever the dates of the events and of the imports.

Existing rows: versions are numbered in the order they were recorded; a batch is given the
highest number recorded before it committed (both wall-clock readings of the servers, the
best that the old rows allow).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("manifest_versions", sa.Column("seq", sa.BigInteger, nullable=True))
    op.execute(
        """
        UPDATE manifest_versions SET seq = (
            SELECT r.n FROM (
                SELECT manifest_id, version,
                       ROW_NUMBER() OVER (ORDER BY recorded_at, manifest_id, version) AS n
                FROM manifest_versions
            ) AS r
            WHERE r.manifest_id = manifest_versions.manifest_id
              AND r.version = manifest_versions.version
        )
        """
    )
    op.create_index("ux_manifest_versions_seq", "manifest_versions", ["seq"], unique=True)
    op.add_column("archive_batches", sa.Column("manifest_seq", sa.BigInteger, nullable=True))
    op.execute(
        """
        UPDATE archive_batches SET manifest_seq = (
            SELECT COALESCE(MAX(v.seq), 0) FROM manifest_versions AS v
            WHERE v.recorded_at <= archive_batches.recorded_at
        )
        """
    )


def downgrade() -> None:
    op.drop_column("archive_batches", "manifest_seq")
    op.drop_index("ux_manifest_versions_seq", table_name="manifest_versions")
    op.drop_column("manifest_versions", "seq")
