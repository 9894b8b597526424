"""The manifest intake's unit of work on the database (`ManifestStore`: one transaction,
`services.db.manifests.store_manifests` inside it). The use case is
`services/service_layer/manifests.py`; the composition root builds it on this adapter."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.filing import StoredManifest, StoreResult, StoreStatus
from lanes.model import Manifest
from services.db.engine import transactions
from services.db.manifests import store_manifests
from services.ports import ManifestStores

__all__ = ["StoreResult", "StoreStatus", "StoredManifest", "sql_manifest_stores", "submit"]


class SqlManifestStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def file(
        self,
        manifests: Sequence[Manifest],
        *,
        source: str,
        now: datetime,
        firm_scope: str | None = None,
    ) -> list[StoreResult]:
        return await store_manifests(
            session=self.session,
            manifests=manifests,
            source=source,
            now=now,
            firm_scope=firm_scope,
        )


def sql_manifest_stores(sessions: async_sessionmaker[AsyncSession]) -> ManifestStores:
    """Opens a transaction: committed when the block ends normally, rolled back else."""
    return transactions(sessions, SqlManifestStore)


async def submit(
    *,
    sessions: async_sessionmaker[AsyncSession],
    manifests: Sequence[Manifest],
    source: str,
    now: datetime,
    firm_scope: str | None = None,
) -> list[StoreResult]:
    """Store `manifests` in one transaction of their own (tests that set up a database
    with them; the entry points call the use case, `FileManifestsHandler`)."""
    if not manifests:
        return []
    async with sql_manifest_stores(sessions)() as store:
        return await store.file(manifests, source=source, now=now, firm_scope=firm_scope)
