"""The calls' outbox (issue 23), as the decisions' (decision_outbox.py): the call-forward use
case writes each call, recall and lost place in its batch's transaction
(`CallForwardStore.add_calls`: table `call_events`, `published_at` NULL), this sends them on
`borderflow.calls` after that transaction commits, in the order decided, and marks them
published in the next batch's transaction (or when idle). A batch rolled back sent nothing;
a crash or a failed send leaves them unpublished, and the next drain (at start-up, after a
failure, oldest first) sends them. The record is the one the desk sent before 2026-12-06
(`kafka_publisher`: enveloped, key visit id, event id the call id): the notifier keeps a
call sent twice once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from aiokafka import AIOKafkaProducer

from lanes.policy.callforward import CallEvent
from services.adapters.outbox_marks import MarkedOutbox
from services.ports import CallForwardStore, CallForwardStores
from streams import clock
from streams.calls import CallEventV1, call_to_wire, encode_call
from streams.metrics import EVENTS_PRODUCED
from streams.topics import CALLS

log = logging.getLogger(__name__)

Publish = Callable[[CallEventV1], Awaitable[None]]
BATCH = 500
# A published call is kept this long (the notifier stores its own copy), then purged
PUBLISHED_KEEP = timedelta(days=2)
PURGE_EVERY = timedelta(hours=1)


def kafka_publisher(producer: AIOKafkaProducer, topic: str = CALLS.name) -> Publish:
    """Each call event to `topic`, keyed by visit id, acknowledged before the next (one
    truck's call, recall and lost place stay in their order)."""

    async def publish(call: CallEventV1) -> None:
        value, headers = encode_call(call)
        await producer.send_and_wait(
            topic, value=value, key=call.visit_id.encode(), headers=headers
        )
        EVENTS_PRODUCED.labels(topic).inc()

    return publish


class CallOutbox(MarkedOutbox[CallForwardStore]):
    what = "calls"

    def __init__(
        self, *, stores: CallForwardStores, publish: Publish, drain_at_start: bool = True
    ) -> None:
        """`stores`: the outbox's transactions (drain, marks); `publish`: one call event to
        the topic (`kafka_publisher`)."""
        super().__init__(stores=stores, drain_at_start=drain_at_start)
        self.publish = publish
        self._purged_at: datetime | None = None

    async def _mark(self, store: CallForwardStore, ids: list[str], at: datetime) -> None:
        await store.mark_calls_published(ids, at=at)

    async def _unmark_since(self, store: CallForwardStore, since: datetime) -> int:
        return await store.unmark_calls_published_since(since)

    async def send(self, calls: Sequence[CallEvent]) -> None:
        """Publish a committed batch's calls from memory, in their order, or drain the
        outbox first if an earlier send failed (so the order stays oldest first). A failure
        is logged, not raised: the calls are committed, and the next batch or idle step
        sends them (raised, the runtime would step the committed batch again, on the queue
        it already changed)."""
        try:
            if self.dirty:
                await self.drain()
                return
            for wire in [call_to_wire(c) for c in calls]:
                await self.publish(wire)
                self.sent([wire.call_id])
                self.published += 1
        except Exception as exc:
            self.dirty = True
            log.warning("calls not yet published (%r): sent by the next batch or idle step", exc)

    async def drain(self) -> int:
        """Mark what was sent; then, after a failure or at start-up, publish every call not
        yet on Kafka, oldest first, and mark it; hourly, purge the old published ones."""
        await self.mark_what_was_sent()
        await self._purge()
        if not self.dirty:
            return 0
        total = 0
        while True:
            async with self.stores() as store:
                rows = await store.unpublished_calls(BATCH)
            if not rows:
                break
            wires = [CallEventV1.model_validate(row) for row in rows]
            for wire in wires:
                await self.publish(wire)
            async with self.stores() as store:
                await store.mark_calls_published([w.call_id for w in wires], at=clock.wall_clock())
            total += len(wires)
        self.published += total
        self.dirty = False
        return total

    async def _purge(self) -> None:
        now = clock.wall_clock()
        if self._purged_at is not None and now - self._purged_at < PURGE_EVERY:
            return
        async with self.stores() as store:
            purged = await store.purge_published_calls(now - PUBLISHED_KEEP)
        self._purged_at = now
        if purged:
            log.info("published calls past retention purged", extra={"count": purged})
