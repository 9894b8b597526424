"""Manifest intake, the one service behind every way in: HTTP (`POST /v1/manifests`), the
bulk import (`borderflow manifests import`) and the `borderflow.manifests` topic."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.model import Manifest
from services.db.manifests import StoredManifest, StoreResult, StoreStatus, store_manifests

__all__ = ["StoreResult", "StoreStatus", "StoredManifest", "submit", "tally"]


async def submit(
    *,
    sessions: async_sessionmaker[AsyncSession],
    manifests: Sequence[Manifest],
    source: str,
    now: datetime,
    firm_scope: str | None = None,
) -> list[StoreResult]:
    """Store `manifests` in one transaction: one result each, in order (see
    `services.db.manifests.store_manifests` for created / updated / unchanged / refused)."""
    if not manifests:
        return []
    async with sessions() as session, session.begin():
        return await store_manifests(
            session=session, manifests=manifests, source=source, now=now, firm_scope=firm_scope
        )


def tally(results: Iterable[StoreResult]) -> Counter[str]:
    """How many results of each status (every status present, zero or not)."""
    counts: Counter[str] = Counter({status.value: 0 for status in StoreStatus})
    counts.update(r.status.value for r in results)
    return counts
