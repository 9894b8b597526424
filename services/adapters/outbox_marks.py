"""What the decisions' and the calls' outboxes share (`decision_outbox.py`, `call_outbox.py`):
the events a batch's transaction wrote are sent on Kafka after it commits, and marked
published in the next batch's transaction (one transaction fewer a batch) or when idle. The
ids sent and not yet marked are kept here until the transaction that marks them commits: a
rollback marks them next time; a crash before that only sends them again (same event id:
the consumers keep one). Until 2026-12-06 each outbox kept that list its own way."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Generic, TypeVar

from streams import clock

log = logging.getLogger(__name__)
S = TypeVar("S")


class MarkedOutbox(Generic[S]):
    """An outbox over stores of type `S`; a subclass says how `S` marks ids published
    (`_mark`) and unmarks those marked since an instant (`_unmark_since`), and what it sends
    (`what`, for the logs)."""

    what = "events"

    def __init__(
        self, *, stores: Callable[[], AbstractAsyncContextManager[S]], drain_at_start: bool
    ) -> None:
        self.stores = stores
        # drain at start-up: a crash may have left events committed and unpublished
        self.dirty = drain_at_start
        self.published = 0
        self._sent: list[str] = []
        self._marking = 0

    async def _mark(self, store: S, ids: list[str], at: datetime) -> None:
        raise NotImplementedError

    async def _unmark_since(self, store: S, since: datetime) -> int:
        raise NotImplementedError

    def sent(self, ids: list[str]) -> None:
        """`ids` are on Kafka: to be marked by the next `mark_sent`."""
        self._sent += ids

    async def mark_sent(self, store: S) -> None:
        """Mark the events sent so far as published, in `store`'s transaction (the next
        batch's). They stay listed until `committed()`: a transaction that rolls back marks
        them again next time."""
        if self._sent:
            await self._mark(store, self._sent, clock.wall_clock())
            self._marking = len(self._sent)

    def committed(self) -> None:
        """The transaction that ran `mark_sent` committed: those marks are done."""
        del self._sent[: self._marking]
        self._marking = 0

    async def mark_what_was_sent(self) -> None:
        """Mark what was sent in a transaction of its own (idle, or before a drain)."""
        if self._sent:
            async with self.stores() as store:
                await self.mark_sent(store)
            self.committed()

    async def republish_since(self, since: datetime) -> None:
        """The broker came back empty (`streams.watch.BrokerWatch`): the events marked
        published since `since`, and those sent not yet marked, may be gone with it. Mark
        them unpublished; the next send or idle drains them again."""
        async with self.stores() as store:
            again = await self._unmark_since(store, since)
        self._sent.clear()
        self._marking = 0
        self.dirty = True
        log.warning("%d %s to publish again after the broker's restart", again, self.what)
