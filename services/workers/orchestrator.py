"""The orchestrator's lane-event side: the `borderflow.lane-events` consumer. It decodes
and checks each event (the gate, lane and carrier it names exist, the record is keyed by
its gate_id: else dead-lettered), hands each batch to the lane-events use case
(services/service_layer/lane_events.py: the board changed, stranded trucks re-planned, one
transaction per batch), and returns the
events that did not fit the board for the consumer runtime to dead-letter (the original
record, its headers and its coordinates, as every dead letter).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord

from lanes.errors import UnknownGateError
from lanes.model import Gate
from services.gates.loader import get_gate
from services.ports import DecisionPublisher
from services.service_layer.lane_events import (
    HELD_REFUSED,
    ApplyLaneEvents,
    ApplyLaneEventsHandler,
    LaneEvent,
    dead_letter_refused,
)
from streams import clock
from streams.errors import InvalidEvent
from streams.keys import key_mismatch, note_mismatch
from streams.lane_events import LaneEventV1, decode_lane_event
from streams.runtime import Inbound, Rejected
from streams.topics import LANE_EVENTS

log = logging.getLogger(__name__)

DeadLetters = Callable[[list[tuple[ConsumerRecord, str, str]]], Awaitable[None]]

PRODUCER_NAME = "borderflow.orchestrator"


@dataclass
class OrchestratorStats:
    events: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    replanned: int = 0
    rejected: int = 0


class LaneEventHandler:
    """Turns a consumer batch into the `ApplyLaneEvents` command for its handler; both are
    built in the composition root (services/bootstrap)."""

    def __init__(
        self,
        *,
        apply: ApplyLaneEventsHandler,
        outbox: DecisionPublisher,
        gates: Mapping[str, Gate],
        group_id: str,
    ) -> None:
        self.apply, self.outbox = apply, outbox
        self.gates, self.group_id = dict(gates), group_id
        self.stats = OrchestratorStats()
        # the consumer runtime's dead-lettering (the composition root sets it): the held
        # events the board refused later go there from the idle step
        self.dead_letters: DeadLetters | None = None

    def decode(self, record: ConsumerRecord) -> LaneEventV1:
        event = decode_lane_event(record.value)
        try:
            gate = get_gate(event.gate_id, self.gates)
        except UnknownGateError as exc:
            raise InvalidEvent(f"gate_id: {exc}") from None
        # a gate's events are applied to its board in their order, which only the key keeps:
        # one keyed otherwise is taken, counted and told (streams/keys.py)
        mismatch = key_mismatch(
            record.key,
            record="lane event's record",
            field="gate_id",
            wanted=event.gate_id,
            keeps="a gate's events",
        )
        if mismatch is not None:
            note_mismatch(record.topic, self.group_id, mismatch)
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

    async def handle(self, batch: Sequence[Inbound[LaneEventV1]]) -> list[Rejected[LaneEventV1]]:
        """Apply the batch (one transaction, the revised decisions published after it);
        returns the events that did not fit the board, with the reason, to be dead-lettered
        as they came (until 2026-12-05 this worker sent them itself, re-serialised, without
        the record's headers, partition or offset)."""
        wires = [item.event for item in batch]
        done = await self.apply(
            ApplyLaneEvents(
                tuple(_lane_event(e, n) for n, e in enumerate(wires)),
                received_at=clock.wall_clock(),
            )
        )
        self.stats.events.update(done.applied)
        self.stats.duplicates += done.duplicates
        self.stats.replanned += len(done.revised)
        rejected = [(batch[e.position], why, "rejected") for e, why in done.rejected]
        for item, why, _ in rejected:
            log.warning("lane event %s rejected (%s): %s", item.event.event_id, self.group_id, why)
        self.stats.rejected += len(rejected)
        return rejected

    async def idle(self) -> None:
        await self.outbox.drain()
        if self.dead_letters is not None:
            sent = await dead_letter_refused(self.apply.uow, self._send_refused)
            self.stats.rejected += sent

    async def _send_refused(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Held lane events the board refused when the decider applied them: dead-lettered
        as this worker's own refusals are, the event as it came (its JSON, keyed by its
        gate); its record's headers and coordinates are not kept (partition and offset -1)."""
        assert self.dead_letters is not None
        dead = []
        for row in rows:
            value = json.dumps(row["payload"], ensure_ascii=False).encode()
            at: datetime = row["at"]  # stored in UTC; a naive one is UTC too
            at_ms = int((at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp() * 1000)
            record = ConsumerRecord(
                LANE_EVENTS.name,
                -1,
                -1,
                at_ms,
                0,
                str(row["gate_id"]).encode(),
                value,
                None,
                len(str(row["gate_id"])),
                len(value),
                [],
            )
            reason = f"{HELD_REFUSED}: {row['refused']}"
            log.warning(
                "held lane event %s refused (%s): %s", row["event_id"], self.group_id, reason
            )
            dead.append((record, reason, "rejected"))
        await self.dead_letters(dead)


def _lane_event(event: LaneEventV1, position: int) -> LaneEvent:
    return LaneEvent(
        event_id=event.event_id,
        gate_id=event.gate_id,
        kind=event.kind,
        at=event.at,
        payload=event.model_dump(mode="json"),
        position=position,
        visit_id=event.visit_id,
        lane_id=event.lane_id,
        carrier_id=event.carrier_id,
    )
