"""The manifest intake's use case, written once: file a batch of manifests.

Every way a manifest comes in calls it: the HTTP API (`POST /v1/manifests`, source
"http"), the `borderflow.manifests` consumer (services/workers/manifests.py, "topic") and
the bulk import (`borderflow manifests import`, services/cli/manifest_import.py, "import").
What each entry point does with a refused one is its own: a 409, a dead letter, a line on
stderr. The rules of filing (versions, another firm's id) are the store's
(`ManifestStore.file`); the results are the domain's (`lanes.filing`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from lanes.filing import StoreResult, StoreStatus
from lanes.model import Manifest
from services.ports import ManifestStores


@dataclass(frozen=True, slots=True)
class FileManifests:
    """File `manifests` in one transaction. `firm_scope`: the authenticated firm, whose
    manifests only are accepted (the HTTP API); None: each manifest names its firm."""

    manifests: tuple[Manifest, ...]
    source: str
    now: datetime
    firm_scope: str | None = None


class FileManifestsHandler:
    def __init__(self, *, uow: ManifestStores) -> None:
        self.uow = uow

    async def __call__(self, cmd: FileManifests) -> list[StoreResult]:
        """One result a manifest, in order; nothing is opened for an empty batch."""
        if not cmd.manifests:
            return []
        async with self.uow() as store:
            return await store.file(
                cmd.manifests, source=cmd.source, now=cmd.now, firm_scope=cmd.firm_scope
            )


def tally(results: Iterable[StoreResult]) -> Counter[str]:
    """How many results of each status (every status present, zero or not)."""
    counts: Counter[str] = Counter({status.value: 0 for status in StoreStatus})
    counts.update(r.status.value for r in results)
    return counts
