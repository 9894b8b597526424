"""The call notifier's unit of work in memory (the use cases' unit tests): one record a
call id, and the drivers' page languages and codes by visit id. Writes are applied at once; each
method is one step, as the database's statements are."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.ports.calls import (
    CHANNELS,
    GIVEN_UP,
    CallNotice,
    CallNoticeStore,
    CallNoticeStores,
    ClaimedCall,
)


@dataclass
class KeptCall:
    notice: CallNotice
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    delivered_at: datetime | None = None
    last_error: str | None = None
    sent: frozenset[str] = frozenset()


@dataclass
class MemoryCallNotices:
    calls: dict[str, KeptCall] = field(default_factory=dict)
    languages: dict[str, str] = field(default_factory=dict)  # visit id -> page language
    codes: dict[str, str] = field(default_factory=dict)  # visit id -> its page's code

    def stores(self) -> CallNoticeStores:
        @asynccontextmanager
        async def transaction() -> AsyncIterator[CallNoticeStore]:
            yield MemoryCallNoticeStore(self)

        return transaction


class MemoryCallNoticeStore:
    def __init__(self, data: MemoryCallNotices) -> None:
        self.data = data

    async def add(self, notices: Sequence[CallNotice], *, now: datetime) -> None:
        for notice in notices:
            self.data.calls.setdefault(notice.call_id, KeptCall(notice, now, now))

    async def due(self, now: datetime, *, limit: int) -> list[tuple[str, str]]:
        due = [
            (c.attempts, c.created_at, call_id, c.notice.visit_id)
            for call_id, c in self.data.calls.items()
            if c.delivered_at is None and c.next_attempt_at <= now
        ]
        return [(call_id, visit_id) for *_, call_id, visit_id in sorted(due)[:limit]]

    async def claim(self, call_id: str, *, now: datetime, until: datetime) -> ClaimedCall | None:
        kept = self.data.calls.get(call_id)
        if kept is None or kept.delivered_at is not None or kept.next_attempt_at > now:
            return None
        earlier = [
            c
            for other_id, c in self.data.calls.items()
            if c.notice.visit_id == kept.notice.visit_id
            and c.delivered_at is None
            and c.next_attempt_at < GIVEN_UP
            and (c.created_at, other_id) < (kept.created_at, call_id)
        ]
        kept.next_attempt_at = until
        payload: dict[str, Any] = dict(kept.notice.payload)
        language = self.data.languages.get(kept.notice.visit_id)
        return ClaimedCall(
            call_id,
            kept.attempts,
            payload,
            language,
            kept.created_at,
            sent=kept.sent,
            code=self.data.codes.get(kept.notice.visit_id),
            held=frozenset().union(*(CHANNELS - c.sent for c in earlier)),
            held_until=min((c.next_attempt_at for c in earlier), default=None),
        )

    async def mark(
        self,
        call_id: str,
        *,
        attempts: int,
        delivered_at: datetime | None,
        next_attempt_at: datetime,
        error: str | None,
        sent: frozenset[str] = frozenset(),
    ) -> None:
        kept = self.data.calls[call_id]
        kept.sent = sent
        kept.attempts, kept.delivered_at = attempts, delivered_at
        kept.next_attempt_at, kept.last_error = next_attempt_at, error
