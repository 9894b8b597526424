"""This side's own facts -> its crossing events (issue 21): what the live system publishes to
`borderflow.xborder.outbound` for the link to send across.

The facts are the ones the gate already publishes on its own broker:

- a **lane decision** (`borderflow.lane-decisions`, from the decider and the orchestrator):
  a truck *assigned* a lane with a cleared manifest heading to the other side gets a
  **pre-arrival notice** (at the decision's time); a truck decided on with a manifest coming
  *from* the other side has **entered** this side (an entry event at the decision's time);
- a **lane event** `truck_left` (`borderflow.lane-events`, the exit camera): the visit's
  truck, if it was assigned and heads to the other side, has **exited** (at the event's
  time), on the road, or on an autonomous carrier if its decision gave it a carrier slot.

Every time is event time (the decision's `decided_at`, the lane event's `at`). Each local
event id is derived from the fact (`notice:<visit>`, `entry:<visit>`, `exit:<visit>`), so a
redelivered decision, a re-plan (the next revision of the same visit) or a repeated exit
event publishes the same id again and the link takes it once (`store.Unit.take`).
The crossing id of an outgoing truck is `<side>:<gate>:<manifest>`; an entry carries none
and the link ties it to the other side's notice by its identity (`lanes.crossings`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Literal

from aiokafka import AIOKafkaProducer, ConsumerRecord
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.crossings import ExitMode, Side
from lanes.model import CustomsStatus, Direction, Manifest
from lanes.policy.truck import cargo_of
from services.adapters.decision_outbox import to_wire
from services.db.convert import decision_row_to_wire, manifest_from_row
from services.db.tables import DecisionRow, ManifestRow
from services.xborder.config import OUTBOUND_TOPIC
from services.xborder.corridor import GateCorridor, corridor_of
from streams.codec import describe_validation_error
from streams.errors import InvalidEvent
from streams.events import LaneDecisionV1
from streams.jsonbody import load_object
from streams.lane_events import LaneEventV1, decode_lane_event
from streams.runtime import Inbound
from streams.topics import LANE_DECISIONS, LANE_EVENTS
from streams.xborder_local import LocalCrossingEventV1

log = logging.getLogger(__name__)

Fact = LaneDecisionV1 | LaneEventV1


@dataclass(frozen=True, slots=True)
class Skipped:
    """A lane event that does not decode. Skipped here, not dead-lettered: the lane-event
    worker, that topic's owner, dead-letters it, and a second copy in the dead-letter topic
    would be redriven twice (found by a stranger's try: each bad lane event was
    dead-lettered again by this loop, as call-forward did with bad reads). A malformed lane
    decision is dead-lettered here, this loop being that topic's only consumer group that
    decodes it."""

    reason: str


Consumed = Fact | Skipped


def outgoing_direction(side: Side) -> Direction:
    """The direction of a truck leaving `side` for the other one."""
    return Direction.EXPORT if side is Side.VN else Direction.IMPORT


def crossing_id_of(corridor: GateCorridor, manifest_id: str) -> str:
    return f"{corridor.side.value}:{corridor.gate_id}:{manifest_id}"


def _truck(manifest: Manifest) -> dict[str, object]:
    return {
        "trailer_plate": manifest.trailer_plate,
        "containers": list(manifest.containers),
        "manifest_id": manifest.manifest_id,  # stays on this side (not in the agreement)
        "firm_id": manifest.firm_id,
        "cargo_description": manifest.cargo_description,
        "gross_weight_kg": manifest.gross_weight_kg,
    }


def events_of_decision(
    decision: LaneDecisionV1, manifest: Manifest | None, corridor: GateCorridor
) -> list[LocalCrossingEventV1]:
    """The crossing events a lane decision is (none, a notice, or an entry)."""
    if manifest is None:
        return []
    if manifest.direction is outgoing_direction(corridor.side):
        if decision.outcome != "assigned" or manifest.customs_status is not CustomsStatus.CLEARED:
            return []
        return [
            _leaving(
                "notice",
                decision.visit_id,
                decision.decided_at,
                manifest,
                corridor,
                cargo_classes=sorted(cargo_of(manifest)),
                hazmat_class=manifest.hazmat_class,
                perishable=manifest.perishable,
            )
        ]
    # from the other side: the plate this side read, the rest as declared here
    return [
        LocalCrossingEventV1(
            event_id=f"entry:{decision.visit_id}",
            kind="entry",
            at=decision.decided_at,
            gate_id=corridor.gate_id,
            direction=manifest.direction,
            tractor_plate=decision.plate,
            **_truck(manifest),
        )
    ]


def exit_of(
    event: LaneEventV1,
    decision: LaneDecisionV1 | None,
    manifest: Manifest | None,
    corridor: GateCorridor,
) -> LocalCrossingEventV1 | None:
    """The exit event a `truck_left` is: the visit's truck was assigned and heads across."""
    if event.kind != "truck_left" or decision is None or manifest is None:
        return None
    if decision.outcome != "assigned" or manifest.direction is not outgoing_direction(
        corridor.side
    ):
        return None
    mode = ExitMode.AUTONOMOUS_CARRIER if decision.carrier_slot else ExitMode.ROAD
    return _leaving("exit", decision.visit_id, event.at, manifest, corridor, mode=mode)


def _leaving(
    kind: Literal["notice", "exit"],
    visit_id: str,
    at: datetime,
    manifest: Manifest,
    corridor: GateCorridor,
    **extra: object,
) -> LocalCrossingEventV1:
    """A notice or exit of a truck leaving this side, its local event id `<kind>:<visit>`."""
    return LocalCrossingEventV1.model_validate(
        {
            "event_id": f"{kind}:{visit_id}",
            "kind": kind,
            "at": at,
            "crossing_id": crossing_id_of(corridor, manifest.manifest_id),
            "gate_id": corridor.gate_id,
            "peer_gate_id": corridor.peer_gate_id,
            "direction": manifest.direction,
            "tractor_plate": manifest.tractor_plate,
            **_truck(manifest),
            **extra,
        }
    )


def gate_corridors(gates_dir: Path | None) -> dict[str, GateCorridor]:
    """The corridor of each gate file this side runs with (the packaged files if None)."""
    packaged = Path(str(resources.files("services.gates")))
    folder = packaged if gates_dir is None else Path(gates_dir)
    found = {}
    for path in sorted(folder.glob("*.toml")):
        corridor = corridor_of(path)
        if corridor is not None:
            found[corridor.gate_id] = corridor
    return found


def decode_fact(record: ConsumerRecord) -> Consumed:
    """A lane decision (enveloped, as the outbox publishes it) or a lane event."""
    if record.topic == LANE_EVENTS.name:
        try:
            return decode_lane_event(record.value)
        except InvalidEvent as exc:
            return Skipped(f"{record.topic}[{record.partition}]@{record.offset}: {exc}")
    obj = load_object(record.value, what="a lane decision")
    data = obj.get("data") if "data" in obj and "type" in obj else obj
    try:
        return LaneDecisionV1.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent(describe_validation_error(exc)) from exc


FACT_TOPICS = [LANE_DECISIONS.name, LANE_EVENTS.name]


@dataclass
class FactsPublisher:
    """The handler of the facts consumer: a batch of this side's lane decisions and lane
    events -> the crossing events they are, on `borderflow.xborder.outbound` (awaited; the
    runtime commits the offsets after, so a crash publishes them again, same ids)."""

    sessions: async_sessionmaker[AsyncSession]
    producer: AIOKafkaProducer
    corridors: Mapping[str, GateCorridor]
    topic: str = OUTBOUND_TOPIC
    published: int = 0

    async def handle(self, batch: Sequence[Inbound[Consumed]]) -> None:
        for skipped in (i.event for i in batch if isinstance(i.event, Skipped)):
            log.debug("facts skip a malformed lane event (its owner dead-letters it): %s", skipped)
        facts = [
            i.event
            for i in batch
            if not isinstance(i.event, Skipped) and i.event.gate_id in self.corridors
        ]
        if not facts:
            return
        async with self.sessions() as session:
            events = await self.events_of(session, facts)
        futures = [
            await self.producer.send(
                self.topic,
                value=e.model_dump_json().encode(),
                key=(e.crossing_id or e.event_id).encode(),
            )
            for e in events
        ]
        for future in futures:
            await future
        self.published += len(events)

    async def events_of(
        self, session: AsyncSession, facts: Sequence[Fact]
    ) -> list[LocalCrossingEventV1]:
        left = [f for f in facts if isinstance(f, LaneEventV1) and f.kind == "truck_left"]
        decisions = {f.visit_id: f for f in facts if isinstance(f, LaneDecisionV1)}
        wanted = {f.visit_id for f in left if f.visit_id and f.visit_id not in decisions}
        if wanted:
            query = select(DecisionRow).where(DecisionRow.visit_id.in_(wanted))
            for row in await session.scalars(query):
                decisions.setdefault(row.visit_id, to_wire(decision_row_to_wire(row)))
        manifest_ids = {d.manifest_id for d in decisions.values() if d.manifest_id}
        manifests: dict[str, Manifest] = {}
        if manifest_ids:
            found = await session.scalars(
                select(ManifestRow).where(ManifestRow.manifest_id.in_(manifest_ids))
            )
            manifests = {r.manifest_id: manifest_from_row(r) for r in found}
        events: list[LocalCrossingEventV1] = []
        for fact in facts:
            corridor = self.corridors[fact.gate_id]
            if isinstance(fact, LaneDecisionV1):
                manifest = manifests.get(fact.manifest_id) if fact.manifest_id else None
                events += events_of_decision(fact, manifest, corridor)
                continue
            decision = decisions.get(fact.visit_id) if fact.visit_id else None
            manifest = (
                manifests.get(decision.manifest_id) if decision and decision.manifest_id else None
            )
            exit_event = exit_of(fact, decision, manifest, corridor)
            if exit_event is not None:
                events.append(exit_event)
        return events
