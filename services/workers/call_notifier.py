"""The call notifier (issue 23): consumes `borderflow.calls`, keeps one row a call id
(`call_notifications`, migration 0012: a call published twice is stored once), and hands
each row to the notifier until it takes it, with exponential backoff while it is down. The
text is in the language the driver last read its page in (vi, zh, en), else English.

Never sent twice: a delivery loop claims a due row with a conditional UPDATE (the row's
next attempt pushed a lease ahead) before sending, so two loops never send one call at
once, and marks it delivered after the notifier took it. A crash between the notifier's
reply and the mark would send that call again once the lease ends: the adapters pass the
call id as the idempotency key for the receiver to drop it. Retry times use the wall
clock (`streams.clock`): they are operations, not decisions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db.call_tables import CallNotificationRow
from services.drivers.store import language_of_visit
from services.notify.port import Notification, Notifier, NotifierDown, text_of
from streams import clock
from streams.calls import CallEventV1
from streams.runtime import Inbound

log = logging.getLogger(__name__)


class CallNotifier:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        notifier: Notifier,
        first_retry_s: float = 2.0,
        max_retry_s: float = 300.0,
        lease_s: float = 60.0,
        batch: int = 100,
        utc_offsets: Mapping[str, timedelta] | None = None,
    ) -> None:
        self.sessions, self.notifier = sessions, notifier
        self.first_retry = timedelta(seconds=first_retry_s)
        self.max_retry = timedelta(seconds=max_retry_s)
        self.lease = timedelta(seconds=lease_s)
        self.batch = batch
        self.utc_offsets = dict(utc_offsets or {})  # gate id -> local time, for the texts
        self.delivered = 0
        self.failures = 0

    async def handle(self, batch: Sequence[Inbound[CallEventV1]]) -> None:
        """Store each call once (by call id); the consumer commits after this."""
        now = clock.wall_clock()
        async with self.sessions() as session, session.begin():
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            for item in batch:
                call = item.event
                row = {
                    "call_id": call.call_id,
                    "visit_id": call.visit_id,
                    "gate_id": call.gate_id,
                    "type": call.type,
                    "payload": call.model_dump(mode="json"),
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                statement = insert(CallNotificationRow).values(**row)
                await session.execute(statement.on_conflict_do_nothing(index_elements=["call_id"]))
        await self.deliver_due()

    async def deliver_due(self) -> int:
        """Send every due, undelivered call (oldest first); returns how many were taken."""
        now = clock.wall_clock()
        async with self.sessions() as session:
            ids = list(
                await session.scalars(
                    select(CallNotificationRow.call_id)
                    .where(
                        CallNotificationRow.delivered_at.is_(None),
                        CallNotificationRow.next_attempt_at <= now,
                    )
                    .order_by(CallNotificationRow.created_at, CallNotificationRow.call_id)
                    .limit(self.batch)
                )
            )
        taken = 0
        for call_id in ids:
            taken += await self._deliver(call_id)
        return taken

    async def _deliver(self, call_id: str) -> int:
        now = clock.wall_clock()
        async with self.sessions() as session, session.begin():
            claimed = await session.execute(
                update(CallNotificationRow)
                .where(
                    CallNotificationRow.call_id == call_id,
                    CallNotificationRow.delivered_at.is_(None),
                    CallNotificationRow.next_attempt_at <= now,
                )
                .values(next_attempt_at=now + self.lease)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return 0  # another loop has it, or it was delivered
            row = await session.get(CallNotificationRow, call_id)
            assert row is not None
            attempts, data = row.attempts, dict(row.payload)
            language = await language_of_visit(session, row.visit_id)
        note = Notification(
            call_id=call_id,
            visit_id=str(data["visit_id"]),
            gate_id=str(data["gate_id"]),
            type=str(data["type"]),
            text=text_of(data, language, self.utc_offsets.get(str(data["gate_id"]))),
            data=data,
        )
        try:
            await self.notifier.send(note)
        except NotifierDown as exc:
            self.failures += 1
            retry = self._backoff(attempts + 1)
            log.warning("call %s not delivered (attempt %d): %s", call_id, attempts + 1, exc)
            await self._mark(call_id, attempts + 1, None, clock.wall_clock() + retry, str(exc))
            return 0
        done = clock.wall_clock()
        await self._mark(call_id, attempts + 1, done, done, None)
        self.delivered += 1
        log.info("call %s delivered after %d attempt(s)", call_id, attempts + 1)
        return 1

    async def _mark(
        self,
        call_id: str,
        attempts: int,
        delivered_at: datetime | None,
        next_attempt_at: datetime,
        error: str | None,
    ) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(CallNotificationRow)
                .where(CallNotificationRow.call_id == call_id)
                .values(
                    attempts=attempts,
                    delivered_at=delivered_at,
                    next_attempt_at=next_attempt_at,
                    last_error=error,
                )
            )

    def _backoff(self, attempts: int) -> timedelta:
        factor: int = 2 ** min(attempts - 1, 20)
        return min(self.max_retry, self.first_retry * factor)

    async def run(self, stop: asyncio.Event, *, every_s: float = 1.0) -> None:
        """Deliver what is due until `stop` (the consumer's on_idle also calls deliver_due)."""
        while not stop.is_set():
            try:
                await self.deliver_due()
            except Exception:  # the database away: log and try again
                log.exception("call deliveries failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_s)
