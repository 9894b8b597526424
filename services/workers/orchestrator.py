"""The orchestrator's lane-event side: what happens at the gate after a decision (a truck
entering or leaving a lane, a lane opened or closed, a carrier out of service or back) is
applied to the gate's board, and a closure or an outage re-plans the trucks it strands:
each gets a revised decision (same visit, next revision) through the outbox.

One transaction per consumer batch, under the gates' locks (the decider takes the same
locks), so a board never sees two writers; a redelivered event changes nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord

from lanes.board import Board, BoardError
from lanes.errors import UnknownGateError
from lanes.model import Assignment, Gate, LaneDecision
from lanes.policy import Policy
from lanes.revise import revised_decision
from lanes.settle import settle
from services.adapters.decision_outbox import DecisionOutbox
from services.gates.loader import get_gate
from services.service_layer.ports import GateStore, GateStores
from streams import clock
from streams.errors import InvalidEvent
from streams.lane_events import LaneEventV1, decode_lane_event
from streams.runtime import Inbound
from streams.topics import LANE_DECISIONS, LANE_EVENTS

log = logging.getLogger(__name__)

PRODUCER_NAME = "borderflow.orchestrator"
WORKER = "lane-events"  # the name of its batches in the archive
REPLANNING = frozenset({"lane_closed", "carrier_out"})


@dataclass
class OrchestratorStats:
    events: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    replanned: int = 0
    rejected: int = 0


class LaneEventHandler:
    def __init__(
        self,
        *,
        stores: GateStores,
        producer: AIOKafkaProducer,
        gates: Mapping[str, Gate],
        policy: Policy,
        group_id: str,
        decisions_topic: str = LANE_DECISIONS.name,
    ) -> None:
        self.stores, self.gates, self.policy = stores, dict(gates), policy
        self.producer, self.group_id = producer, group_id
        self._rejected: list[tuple[LaneEventV1, str]] = []  # this batch's, dead-lettered after
        self.stats = OrchestratorStats()
        self.outbox = DecisionOutbox(
            stores=stores, producer=producer, topic=decisions_topic, producer_name=PRODUCER_NAME
        )

    def decode(self, record: ConsumerRecord) -> LaneEventV1:
        event = decode_lane_event(record.value)
        try:
            gate = get_gate(event.gate_id, self.gates)
        except UnknownGateError as exc:
            raise InvalidEvent(f"gate_id: {exc}") from None
        places = {lane.lane_id for lane in gate.lanes}
        if event.kind in {"truck_entered", "truck_left"} and gate.fleet and gate.fleet.yard:
            places.add(gate.fleet.yard.yard_id)  # a handover bay at the transfer yard
        if event.lane_id is not None and event.lane_id not in places:
            raise InvalidEvent(f"lane_id: gate {gate.gate_id!r} has no lane {event.lane_id!r}")
        carriers = {c.carrier_id for c in gate.fleet.carriers} if gate.fleet else set()
        if event.carrier_id is not None and event.carrier_id not in carriers:
            raise InvalidEvent(
                f"carrier_id: gate {gate.gate_id!r} has no carrier {event.carrier_id!r}"
            )
        return event

    async def handle(self, batch: Sequence[Inbound[LaneEventV1]]) -> None:
        """Apply the batch in one transaction; then publish the revised decisions and
        dead-letter the events that did not fit the board (with the reason)."""
        self._rejected = []
        async with self.stores() as store:
            revised = await self._apply_batch(store, [item.event for item in batch])
        self.outbox.committed()
        await self.outbox.send(revised)
        await self._dead_letter(self._rejected)

    async def _dead_letter(self, rejected: Sequence[tuple[LaneEventV1, str]]) -> None:
        futures = []
        for event, reason in rejected:
            log.warning("lane event %s rejected: %s", event.event_id, reason)
            self.stats.rejected += 1
            headers = [
                ("dlq.error", reason.encode()),
                ("dlq.error.type", b"rejected"),
                ("dlq.source.topic", LANE_EVENTS.name.encode()),
                ("dlq.consumer.group", self.group_id.encode()),
                ("dlq.failed_at", clock.wall_clock().isoformat().encode()),
            ]
            futures.append(
                await self.producer.send(
                    LANE_EVENTS.dlq.name,
                    value=event.model_dump_json().encode(),
                    key=event.gate_id.encode(),
                    headers=headers,
                )
            )
        for future in futures:
            await future

    async def idle(self) -> None:
        await self.outbox.drain()

    async def _apply_batch(
        self, store: GateStore, events: Sequence[LaneEventV1]
    ) -> list[LaneDecision]:
        await store.lock_gates({e.gate_id for e in events})
        await self.outbox.mark_sent(store)
        now = clock.wall_clock()
        fresh_ids = await store.new_lane_events([_row(e, now) for e in events])
        fresh = sorted(
            (e for e in events if e.event_id in fresh_ids), key=lambda e: (e.at, e.event_id)
        )
        self.stats.duplicates += len(events) - len(fresh)
        await store.record_batch(  # the replay's input boundaries (services/replay)
            WORKER,
            list(dict.fromkeys(e.event_id for e in events if e.event_id in fresh_ids)),
            [e.at for e in fresh],
        )
        revised: list[LaneDecision] = []
        for gate_id in sorted({e.gate_id for e in fresh}):
            gate = self.gates[gate_id]
            board = await store.board(gate)
            for event in (e for e in fresh if e.gate_id == gate_id):
                board = settle(board, gate, now=event.at)
                try:
                    board, plans = self._apply(board, gate, event)
                except BoardError as exc:
                    self._rejected.append((event, str(exc)))
                    continue
                self.stats.events[event.kind] += 1
                if event.kind in {"lane_closed", "lane_opened"} and event.lane_id:
                    await store.set_lane_open(event.lane_id, is_open=event.kind == "lane_opened")
                revised += await self._revise(store, plans, event)
            await store.save_board(gate_id, board, now=fresh[-1].at)
        await store.revise_decisions(revised)
        self.stats.replanned += len(revised)
        return revised

    def _apply(
        self, board: Board, gate: Gate, event: LaneEventV1
    ) -> tuple[Board, list[tuple[str, Assignment]]]:
        at = event.at
        if event.kind == "truck_entered":
            assert event.visit_id is not None and event.lane_id is not None
            return board.truck_entered(event.visit_id, event.lane_id, at), []
        if event.kind == "truck_left":
            assert event.visit_id is not None
            return board.truck_left(event.visit_id, at), []
        if event.kind == "lane_opened":
            assert event.lane_id is not None
            return board.lane_opened(event.lane_id, at), []
        if event.kind == "carrier_back":
            assert event.carrier_id is not None
            return board.carrier_back(event.carrier_id, at), []
        if event.kind == "carrier_departed":
            assert event.carrier_id is not None
            return board.carrier_departed(event.carrier_id, at), []
        if event.kind == "carrier_arrived":
            assert event.carrier_id is not None
            return board.carrier_arrived(event.carrier_id, at), []
        if event.kind == "lane_closed":
            assert event.lane_id is not None
            board = board.lane_closed(event.lane_id, at)
        else:  # carrier_out
            assert event.carrier_id is not None
            board = board.carrier_out(event.carrier_id, at)
        plans, board = self.policy.replan(board, gate, now=at)
        return board, plans

    async def _revise(
        self, store: GateStore, plans: Sequence[tuple[str, Assignment]], event: LaneEventV1
    ) -> list[LaneDecision]:
        if not plans:
            return []
        current = await store.decisions_for_visits([v for v, _ in plans])
        revised = []
        for visit_id, assignment in plans:
            decision = current.get(visit_id)
            if decision is None:
                log.warning("re-planned visit %s has no decision; skipped", visit_id)
                continue
            revised.append(revised_decision(decision, assignment, now=event.at))
        return revised


def _row(event: LaneEventV1, now: datetime) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "gate_id": event.gate_id,
        "kind": event.kind,
        "at": event.at,
        "payload": event.model_dump(mode="json"),
        "received_at": now,
    }
