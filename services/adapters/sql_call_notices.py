"""The call notifier's unit of work on the database (`CallNoticeStore`:
`call_notifications`, migration 0012, one row a call id). The use cases are
services/service_layer/call_notices.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db.call_tables import CallNotificationRow
from services.db.engine import transactions
from services.drivers.store import code_of_visit, language_of_visit
from services.ports.calls import CHANNELS, GIVEN_UP, CallNotice, CallNoticeStores, ClaimedCall


class SqlCallNoticeStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, notices: Sequence[CallNotice], *, now: datetime) -> None:
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        for notice in notices:
            row = {
                "call_id": notice.call_id,
                "visit_id": notice.visit_id,
                "gate_id": notice.gate_id,
                "type": notice.type,
                "payload": dict(notice.payload),
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            statement = insert(CallNotificationRow).values(**row)
            await self.session.execute(statement.on_conflict_do_nothing(index_elements=["call_id"]))

    async def due(self, now: datetime, *, limit: int) -> list[tuple[str, str]]:
        return [
            (call_id, visit_id)
            for call_id, visit_id in await self.session.execute(
                select(CallNotificationRow.call_id, CallNotificationRow.visit_id)
                .where(
                    CallNotificationRow.delivered_at.is_(None),
                    CallNotificationRow.next_attempt_at <= now,
                )
                .order_by(
                    CallNotificationRow.attempts,
                    CallNotificationRow.created_at,
                    CallNotificationRow.call_id,
                )
                .limit(limit)
            )
        ]

    async def claim(self, call_id: str, *, now: datetime, until: datetime) -> ClaimedCall | None:
        claimed = await self.session.execute(
            update(CallNotificationRow)
            .where(
                CallNotificationRow.call_id == call_id,
                CallNotificationRow.delivered_at.is_(None),
                CallNotificationRow.next_attempt_at <= now,
            )
            .values(next_attempt_at=until)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = await self.session.get(CallNotificationRow, call_id)
        assert row is not None
        # the calls of the same truck kept before it and neither delivered nor given up:
        # it waits for them on the channels they have not taken yet
        c = CallNotificationRow
        earlier = (
            await self.session.execute(
                select(c.sent, c.next_attempt_at).where(
                    c.visit_id == row.visit_id,
                    c.delivered_at.is_(None),
                    c.next_attempt_at < GIVEN_UP,
                    or_(
                        c.created_at < row.created_at,
                        and_(c.created_at == row.created_at, c.call_id < call_id),
                    ),
                )
            )
        ).all()
        return ClaimedCall(
            call_id=call_id,
            attempts=row.attempts,
            payload=dict(row.payload),
            language=await language_of_visit(self.session, row.visit_id),
            kept_at=row.created_at,
            sent=_channels(row.sent),
            code=await code_of_visit(self.session, row.visit_id),
            held=frozenset().union(*(CHANNELS - _channels(sent) for sent, _ in earlier)),
            held_until=min((at for _, at in earlier), default=None),
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
        await self.session.execute(
            update(CallNotificationRow)
            .where(CallNotificationRow.call_id == call_id)
            .values(
                attempts=attempts,
                delivered_at=delivered_at,
                next_attempt_at=next_attempt_at,
                last_error=error,
                sent=",".join(sorted(sent)) or None,
            )
        )


def _channels(sent: str | None) -> frozenset[str]:
    """The channels that took a call, as `call_notifications.sent` keeps them."""
    return frozenset(filter(None, (sent or "").split(",")))


def sql_call_notice_stores(sessions: async_sessionmaker[AsyncSession]) -> CallNoticeStores:
    """Opens a transaction: committed when the block ends normally, rolled back else."""
    return transactions(sessions, SqlCallNoticeStore)
