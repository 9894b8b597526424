"""The call notifier's use cases (issue 23), written once: keep the calls published on
`borderflow.calls` (one a call id: a call published twice is kept once), and deliver the
due ones to the notifier until it takes them, with exponential backoff while it is down.
The text is in the language the driver last read its page in (vi, zh, en), else English;
a call ends with what opens the truck's own page (its code, and the link when the public
URL is known), looked up by the call's visit id when the call is claimed.

Never sent twice: a delivery claims a due call (its next attempt pushed a lease ahead)
before sending, so two loops never send one call at once, and marks it delivered after
the notifier took it. A crash between the notifier's reply and the mark would send that
call again once the lease ends: the notifier's adapters pass the call id as the
idempotency key for the receiver to drop it. Retry times use the wall clock (`wall`):
they are operations, not decisions. The `borderflow.calls` consumer
(services/workers/call_notifier.py) calls these; the composition root builds them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.ports.calls import (
    GIVEN_UP,
    CallNotice,
    CallNoticeStores,
    Notification,
    Notifier,
    NotifierDown,
    text_of,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KeepCalls:
    notices: tuple[CallNotice, ...]


@dataclass(frozen=True, slots=True)
class Retries:
    """The first retry's wait, doubled each attempt up to `longest`; `lease`: how long a
    claimed call is another loop's to leave alone; `give_up`: a call not taken this long
    after it was kept is over (a call's deadline is minutes after it): it is not tried
    again (before, a firm's dead webhook had its calls retried every 5 minutes for ever,
    a backlog growing by each of its calls, which every later call waited behind)."""

    first: timedelta = timedelta(seconds=2)
    longest: timedelta = timedelta(seconds=300)
    lease: timedelta = timedelta(seconds=60)
    give_up: timedelta = timedelta(hours=1)

    def backoff(self, attempts: int) -> timedelta:
        factor: int = 2 ** min(attempts - 1, 20)
        return min(self.longest, self.first * factor)


class CallNotices:
    def __init__(
        self,
        *,
        uow: CallNoticeStores,
        notifier: Notifier,
        wall: Callable[[], datetime],
        retries: Retries | None = None,
        batch: int = 100,
        parallel: int = 8,
        utc_offsets: Mapping[str, timedelta] | None = None,
        public_url: str | None = None,
    ) -> None:
        self.uow, self.notifier, self.wall = uow, notifier, wall
        self.retries = retries or Retries()
        self.batch, self.parallel = batch, parallel
        self.utc_offsets = dict(utc_offsets or {})  # gate id -> local time, for the texts
        # where drivers' phones reach the pages (BORDERFLOW_PUBLIC_URL): the SMS's link
        self.public_url = public_url
        self.delivered = 0
        self.failures = 0
        self.given_up = 0

    async def keep(self, cmd: KeepCalls) -> None:
        """Keep each call once (by call id), due now."""
        async with self.uow() as store:
            await store.add(cmd.notices, now=self.wall())

    async def deliver_due(self) -> int:
        """Send every due, undelivered call (those never tried first), `parallel` at once:
        a receiver that hangs to its timeout (a firm's webhook) holds its own calls only,
        not every driver's call behind them (found by a stranger's try: one by one, a dead
        webhook's retries, 5 s each, kept new calls' SMS waiting minutes, and with more
        retries due than `batch` never sent them). One truck's calls go one after the
        other, in that order (its call before its recall or lost place); different trucks'
        in no given order. Returns how many were taken."""
        async with self.uow() as store:
            due = await store.due(self.wall(), limit=self.batch)
        trucks: dict[str, list[str]] = {}
        for call_id, visit_id in due:
            trucks.setdefault(visit_id, []).append(call_id)
        gate = asyncio.Semaphore(self.parallel)

        async def in_turn(call_ids: list[str]) -> int:
            taken = 0
            for call_id in call_ids:
                async with gate:
                    taken += await self._deliver(call_id)
            return taken

        return sum(await asyncio.gather(*(in_turn(ids) for ids in trucks.values())))

    async def _deliver(self, call_id: str) -> int:
        now = self.wall()
        async with self.uow() as store:
            claimed = await store.claim(call_id, now=now, until=now + self.retries.lease)
        if claimed is None:
            return 0  # another loop has it, or it was delivered
        data, attempts = claimed.payload, claimed.attempts + 1
        note = Notification(
            call_id=call_id,
            visit_id=str(data["visit_id"]),
            gate_id=str(data["gate_id"]),
            type=str(data["type"]),
            text=text_of(
                data,
                claimed.language,
                self.utc_offsets.get(str(data["gate_id"])),
                code=claimed.code,
                base_url=self.public_url,
            ),
            data=data,
            sent=claimed.sent,
            held=claimed.held,
        )
        try:
            await self.notifier.send(note)
        except NotifierDown as exc:
            self.failures += 1
            kept = claimed.kept_at
            if kept is not None and self.wall() - kept >= self.retries.give_up:
                self.given_up += 1
                log.error(
                    "call %s given up after %d attempt(s) since %s: %s",
                    call_id, attempts, kept.isoformat(), exc,
                )  # fmt: skip
                await self._mark(
                    call_id,
                    attempts,
                    None,
                    GIVEN_UP,
                    f"given up: {exc}",
                    sent=claimed.sent | exc.sent,
                )
                return 0
            log.warning("call %s not delivered (attempt %d): %s", call_id, attempts, exc)
            retry_at = self.wall() + self.retries.backoff(attempts)
            if claimed.held - claimed.sent - exc.sent and claimed.held_until is not None:
                # held behind an earlier call of its truck: tried again with it (that one
                # first: the due calls of one truck go in the order they were kept), not
                # after a backoff of its own that would let later calls overtake it
                retry_at = max(self.wall(), min(claimed.held_until, GIVEN_UP))
            # the channels that took it are kept with the call: a notifier restarted before
            # the retry does not send them it again (before, they were in its memory only)
            await self._mark(
                call_id, attempts, None, retry_at, str(exc), sent=claimed.sent | exc.sent
            )
            return 0
        done = self.wall()
        await self._mark(call_id, attempts, done, done, None, sent=claimed.sent)
        self.delivered += 1
        # routine at the first attempt (DEBUG: `borderflow up` prints INFO, and a line per
        # call buried its progress lines); after a failure, worth saying
        log.log(
            logging.INFO if attempts > 1 else logging.DEBUG,
            "call %s delivered after %d attempt(s)",
            call_id,
            attempts,
        )
        return 1

    async def _mark(
        self,
        call_id: str,
        attempts: int,
        delivered_at: datetime | None,
        next_attempt_at: datetime,
        error: str | None,
        *,
        sent: frozenset[str] = frozenset(),
    ) -> None:
        async with self.uow() as store:
            await store.mark(
                call_id,
                attempts=attempts,
                delivered_at=delivered_at,
                next_attempt_at=next_attempt_at,
                error=error,
                sent=sent,
            )
