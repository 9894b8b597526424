"""The booking-event outbox publisher, run inside the API process: every booking change
writes its event in the changing transaction (`services.db.bookings`); after the commit the
route wakes this publisher, which sends every unpublished event (oldest first) to
`borderflow.bookings` and marks it published. It also drains on start-up and when idle, so
a crash or a broker outage delays events but never loses them (at least once: consumers
deduplicate on event_id)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db.booking_tables import BookingEventRow
from services.db.bookings import mark_events_published, unpublished_events
from services.db.idempotency import purge_idempotency_keys
from services.drivers.store import purge_pages
from streams import clock
from streams.bookings import BookingEventV1
from streams.codec import encode_enveloped
from streams.metrics import EVENTS_PRODUCED
from streams.runtime import is_outage
from streams.topics import BOOKINGS

log = logging.getLogger(__name__)

BATCH = 500
PURGE_EVERY = timedelta(hours=1)


class Producer(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def send(self, topic: str, **kwargs: Any) -> Any: ...


def to_wire(row: BookingEventRow) -> BookingEventV1:
    return BookingEventV1.model_validate(
        row.payload | {"event_id": row.event_id, "type": row.type, "occurred_at": row.occurred_at}
    )


class BookingOutbox:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        producer: Callable[[], Producer],
        topic: str = BOOKINGS.name,
        producer_name: str = "borderflow-api",
        idle_s: float = 5.0,
    ) -> None:
        self.sessions, self.make_producer = sessions, producer
        self.topic, self.producer_name, self.idle_s = topic, producer_name, idle_s
        self.published = 0
        self._purged_at: datetime | None = None
        self._wake = asyncio.Event()
        self._producer: Producer | None = None

    def wake(self) -> None:
        """A transaction with booking events committed: publish them now."""
        self._wake.set()

    async def drain(self) -> int:
        """Publish every event not yet on Kafka, oldest first, then mark it published."""
        if self._producer is None:
            producer = self.make_producer()
            await producer.start()
            self._producer = producer
        total = 0
        while True:
            async with self.sessions() as session:
                rows = await unpublished_events(session=session, limit=BATCH)
            if not rows:
                break
            await self._publish(self._producer, [to_wire(r) for r in rows])
            async with self.sessions() as session, session.begin():
                await mark_events_published(
                    session=session, event_ids=[r.event_id for r in rows], at=clock.wall_clock()
                )
            total += len(rows)
        self.published += total
        await self._purge_old_keys()
        return total

    async def _purge_old_keys(self) -> None:
        """Hourly: forget idempotency keys past their retention (services.db.idempotency)
        and the drivers' pages past theirs (services.drivers.store.PAGE_KEEP)."""
        now = clock.wall_clock()
        if self._purged_at is not None and now - self._purged_at < PURGE_EVERY:
            return
        async with self.sessions() as session, session.begin():
            purged = await purge_idempotency_keys(session=session, now=now)
            pages = await purge_pages(session=session, now=now)
        self._purged_at = now
        if purged:
            log.info("idempotency keys past retention purged", extra={"count": purged})
        if pages:
            log.info("drivers' pages past retention purged", extra={"count": pages})

    async def _publish(self, producer: Producer, wires: Sequence[BookingEventV1]) -> None:
        futures = []
        for wire in wires:
            value, headers = encode_enveloped(
                wire,
                event_id=wire.event_id,
                type_=wire.type,
                occurred_at=wire.occurred_at,
                producer=self.producer_name,
            )
            futures.append(
                await producer.send(
                    self.topic, value=value, key=wire.booking_id.encode(), headers=headers
                )
            )
        for future in futures:
            await future
        EVENTS_PRODUCED.labels(self.topic).inc(len(futures))

    async def run(self) -> None:
        """Drain at start, on every wake-up and every `idle_s`; a failure is logged and
        retried (backing off up to a minute), never raised."""
        backoff = 1.0
        while True:
            self._wake.clear()
            try:
                sent = await self.drain()
                if sent:
                    log.debug("booking events published", extra={"count": sent})
                backoff = 1.0
                wait = self.idle_s
            except Exception as exc:
                # the database or the broker away is expected: one line, not a traceback
                outage = is_outage(exc)
                log.warning(
                    "booking events not published yet (%r); will retry", exc, exc_info=not outage
                )
                await self._drop_producer()
                wait, backoff = backoff, min(backoff * 2, 60.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def close(self) -> None:
        await self._drop_producer()


@contextlib.asynccontextmanager
async def running_booking_outbox(outbox: BookingOutbox) -> AsyncIterator[BookingOutbox]:
    """Run the publisher in the background for the life of the block."""
    task = asyncio.create_task(outbox.run(), name="booking-outbox")
    try:
        yield outbox
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await outbox.close()
