"""The lane-decision outbox, shared by every worker that decides: decisions are written in
the deciding transaction with `published_at` NULL, published after it commits, then marked.
A crash or a failed send leaves them NULL, and the next drain (oldest first) sends them."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from lanes.model import LaneDecision
from services.adapters.outbox_marks import MarkedOutbox
from services.db.convert import decision_values
from services.ports import GateStore, GateStores
from streams import clock
from streams.codec import encode_enveloped
from streams.events import LANE_DECISION_TYPE, LaneDecisionV1
from streams.metrics import EVENTS_PRODUCED
from streams.topics import LANE_DECISIONS

log = logging.getLogger(__name__)
SWEEP_EVERY_S = 10.0


class DecisionOutbox(MarkedOutbox[GateStore]):
    what = "decisions"

    def __init__(
        self,
        *,
        stores: GateStores,
        producer: AIOKafkaProducer,
        producer_name: str,
        topic: str = LANE_DECISIONS.name,
        drain_at_start: bool = True,
    ) -> None:
        # drain at start-up: the deciding workers; a process that only sends its own
        # decisions, the control room, does not
        super().__init__(stores=stores, drain_at_start=drain_at_start)
        self.producer, self.topic, self.producer_name = producer, topic, producer_name
        # Orphans: decisions another process committed and died before publishing (scaled
        # out, nobody restarts in its place). Unpublished at two sweeps SWEEP_EVERY_S apart
        # is orphaned: a live process marks what it sent within its next batch or idle.
        self._suspects: set[str] = set()
        self._swept_at: float | None = None

    async def _mark(self, store: GateStore, ids: list[str], at: datetime) -> None:
        await store.mark_published(ids, at=at)

    async def _unmark_since(self, store: GateStore, since: datetime) -> int:
        return await store.unmark_published_since(since)

    async def send(self, decisions: Sequence[LaneDecision]) -> None:
        """Publish a committed batch's decisions straight from memory, or drain the outbox
        first if an earlier send failed (so the order stays oldest first)."""
        if self.dirty:
            await self.drain()
            return
        if not decisions:
            return
        try:
            await self._publish([to_wire(decision_values(d)) for d in decisions])
        except BaseException:
            self.dirty = True
            raise
        self.sent([d.decision_id for d in decisions])
        self.published += len(decisions)

    async def publish_now(self, decisions: Sequence[LaneDecision]) -> None:
        """Send a committed transaction's decisions and mark them published at once (the
        control room: no later batch may come to mark them). A broker error leaves them
        unpublished and durable: they leave with the next drain."""
        if not decisions:
            return
        try:
            await self.send(decisions)
            await self.drain()
        except KafkaError as exc:
            log.warning(
                "decisions %s not yet published: %s", [d.decision_id for d in decisions], exc
            )

    async def drain(self) -> int:
        """Mark what was sent; then, after a failure or at start-up, publish every decision
        not yet on Kafka and mark it published."""
        await self.mark_what_was_sent()
        if not self.dirty:
            return await self._sweep_orphans()
        total = 0
        while True:
            async with self.stores() as store:
                rows = await store.unpublished_decisions(1000)
            if not rows:
                break
            await self._publish([to_wire(row) for row in rows])
            async with self.stores() as store:
                await store.mark_published(
                    [str(r["decision_id"]) for r in rows], at=clock.wall_clock()
                )
            total += len(rows)
        self.published += total
        self.dirty = False
        return total

    async def _sweep_orphans(self) -> int:
        """Publish and mark the decisions left unpublished since the previous sweep (their
        process died between commit and publish); at most once every SWEEP_EVERY_S."""
        now = time.monotonic()
        if self._swept_at is not None and now - self._swept_at < SWEEP_EVERY_S:
            return 0
        self._swept_at = now
        async with self.stores() as store:
            rows = await store.unpublished_decisions(1000)
        orphans = [r for r in rows if r["decision_id"] in self._suspects]
        self._suspects = {str(r["decision_id"]) for r in rows} - {
            str(r["decision_id"]) for r in orphans
        }
        if not orphans:
            return 0
        log.warning("publishing %d decisions orphaned by another process", len(orphans))
        await self._publish([to_wire(row) for row in orphans])
        async with self.stores() as store:
            await store.mark_published(
                [str(r["decision_id"]) for r in orphans], at=clock.wall_clock()
            )
        self.published += len(orphans)
        return len(orphans)

    async def _publish(self, wires: Sequence[LaneDecisionV1]) -> None:
        futures = []
        for wire in wires:
            value, headers = encode_enveloped(
                wire,
                event_id=wire.decision_id,
                type_=LANE_DECISION_TYPE,
                occurred_at=wire.decided_at,
                producer=self.producer_name,
            )
            futures.append(
                await self.producer.send(
                    self.topic, value=value, key=wire.visit_id.encode(), headers=headers
                )
            )
        for future in futures:
            await future
        EVENTS_PRODUCED.labels(self.topic).inc(len(futures))


def to_wire(values: Mapping[str, Any]) -> LaneDecisionV1:
    return LaneDecisionV1.model_validate({k: v for k, v in values.items() if k != "published_at"})
