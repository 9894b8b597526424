"""The call notifier (issue 23): consumes `borderflow.calls` and hands the calls to the
call notifier's use cases (`CallNotices`, services/service_layer/call_notices.py: keep each
call once, deliver the due ones with backoff, never twice), built by the composition root
on the database; between batches (and on its own loop, `run`) it delivers what is due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError

from services.ports.calls import CallNotice
from services.service_layer.call_notices import CallNotices, KeepCalls
from streams.calls import CallEventV1
from streams.runtime import Inbound

log = logging.getLogger(__name__)


class CallNotifier:
    def __init__(self, *, notices: CallNotices) -> None:
        """`notices`: the use cases, as the composition root builds them
        (`make_call_notifier`)."""
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
            except OperationalError as exc:  # the database away or locked: one line, again
                # (its traceback, 30 lines a time, came between `up`'s progress lines)
                log.warning(
                    "call deliveries failed (%s); retrying in %g s", exc.orig or exc, every_s
                )
            except Exception:  # anything else: with its traceback, and try again
                log.exception("call deliveries failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_s)
