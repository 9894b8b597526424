"""The weigh-in-motion intake's unit of work in memory (the use case's unit tests): the
weighings by event id, with the wall clock they were received at. A transaction's writes
are kept only when it ends normally."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from services.ports import Weighing, WeighingStore, WeighingStores


@dataclass
class MemoryWeighings:
    stored: dict[str, tuple[Weighing, datetime]] = field(default_factory=dict)

    def stores(self) -> WeighingStores:
        @asynccontextmanager
        async def transaction() -> AsyncIterator[WeighingStore]:
            work = MemoryWeighingStore(self)
            yield work
            self.stored.update(work.added)

        return transaction


class MemoryWeighingStore:
    def __init__(self, data: MemoryWeighings) -> None:
        self.data = data
        self.added: dict[str, tuple[Weighing, datetime]] = {}

    async def known(self, event_ids: Sequence[str]) -> set[str]:
        return {e for e in event_ids if e in self.data.stored or e in self.added}

    async def add(self, weighings: Sequence[Weighing], *, received_at: datetime) -> None:
        self.added.update({w.event_id: (w, received_at) for w in weighings})
