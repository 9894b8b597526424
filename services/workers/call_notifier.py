"""The call notifier (issue 23): consumes `borderflow.calls` and hands the calls to the
call notifier's use cases (`CallNotices`, services/service_layer/call_notices.py: keep each
call once, deliver the due ones with backoff, never twice), built by the composition root
on the database; between batches (and on its own loop, `run`) it delivers what is due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.adapters.sql_call_notices import sql_call_notice_stores
from services.notify.port import Notifier
from services.ports.calls import CallNotice
from services.service_layer.call_notices import CallNotices, KeepCalls, Retries
from streams import clock
from streams.calls import CallEventV1
from streams.runtime import Inbound

log = logging.getLogger(__name__)


class CallNotifier:
    def __init__(
        self,
        *,
        notices: CallNotices | None = None,
        sessions: async_sessionmaker[AsyncSession] | None = None,
        notifier: Notifier | None = None,
        first_retry_s: float = 2.0,
        max_retry_s: float = 300.0,
        lease_s: float = 60.0,
        batch: int = 100,
        utc_offsets: Mapping[str, timedelta] | None = None,
    ) -> None:
        """`notices`: the use cases, as the composition root builds them. A test that runs
        the notifier on a database of its own gives `sessions` and `notifier` (and the
        retry settings) instead: the same use cases are then made on the SQL adapter."""
        if notices is None:
            if sessions is None or notifier is None:
                raise TypeError("CallNotifier needs notices, or sessions and notifier")
            notices = CallNotices(
                uow=sql_call_notice_stores(sessions),
                notifier=notifier,
                wall=clock.wall_clock,
                retries=Retries(
                    first=timedelta(seconds=first_retry_s),
                    longest=timedelta(seconds=max_retry_s),
                    lease=timedelta(seconds=lease_s),
                ),
                batch=batch,
                utc_offsets=utc_offsets,
            )
        self.notices = notices

    @property
    def delivered(self) -> int:
        return self.notices.delivered

    @property
    def failures(self) -> int:
        return self.notices.failures

    async def handle(self, batch: Sequence[Inbound[CallEventV1]]) -> None:
        """Keep each call once (by call id), then deliver what is due; the consumer
        commits after this."""
        notices = tuple(
            CallNotice(
                call_id=call.call_id,
                visit_id=call.visit_id,
                gate_id=call.gate_id,
                type=call.type,
                payload=call.model_dump(mode="json"),
            )
            for call in (item.event for item in batch)
        )
        await self.notices.keep(KeepCalls(notices))
        await self.deliver_due()

    async def deliver_due(self) -> int:
        """Send every due, undelivered call (oldest first); returns how many were taken."""
        return await self.notices.deliver_due()

    async def run(self, stop: asyncio.Event, *, every_s: float = 1.0) -> None:
        """Deliver what is due until `stop` (the consumer's on_idle also calls deliver_due)."""
        while not stop.is_set():
            try:
                await self.deliver_due()
            except Exception:  # the database away: log and try again
                log.exception("call deliveries failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_s)
