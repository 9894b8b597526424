"""A controller's action applied: checked by the domain (`lanes.actions`, the policy), made
durable with its audit entry in one transaction under the gate's lock (the lock the
deciding workers take), announced on `borderflow.controller-actions`, and its effect put in
the live flow: a lane opened or closed is a lane event the orchestrator applies (and which
re-plans the lane's trucks), a decision changed leaves through the decision outbox.

Actions are timed by the gate's clock (the newest read's event time), as automatic
decisions are, so a replay gives the same board; the audit entry also keeps the wall clock.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiokafka.errors import KafkaError
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.actions import (
    ActionRefused,
    Applied,
    hold,
    lane_change_allowed,
    place_with_manifest,
    reassign,
)
from lanes.board_json import board_to_json
from lanes.model import Direction, Gate, LaneDecision, Manifest
from lanes.plates import normalise_plate
from lanes.settle import settle
from lanes.similarity import folded_key
from services.adapters.sql_gate import SqlGateStore
from services.control.snapshot import gate_clock
from services.control.state import ControlRoom
from services.db import boards as store
from services.db import repository as repo
from services.db.audit import append_entry
from services.db.boards import load_gate_board
from services.db.convert import decision_from_row, manifest_from_row
from services.db.manifests import manifests_for_keys
from services.db.tables import DecisionRow, ManifestRow, VisitRow
from streams import clock
from streams.codec import encode_enveloped
from streams.lane_events import LANE_EVENT_TYPE, LaneEventV1
from streams.topics import CONTROLLER_ACTIONS, LANE_EVENTS

CONTROLLER_ACTION_TYPE = "controller_action"
log = logging.getLogger(__name__)


class ActionNotFound(LookupError):
    """A visit, decision or manifest the action names does not exist (404)."""


class ControllerActionV1(BaseModel):
    """The Kafka record of an action (`borderflow.controller-actions`, key gate_id)."""

    action_id: str
    audit_seq: int
    gate_id: str
    action: str
    actor: str
    reason: str
    at: datetime  # the gate's event time the action took effect at
    recorded_at: datetime  # wall clock
    visit_id: str | None = None
    lane_id: str | None = None
    manifest_id: str | None = None
    plate: str | None = None
    decision_id: str | None = None  # the revised decision, when one was made
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class Done:
    action_id: str
    audit_seq: int
    decision: LaneDecision | None
    lane_event_id: str | None


@dataclass(frozen=True, slots=True)
class Request:
    action: str
    gate_id: str
    actor: str
    reason: str
    visit_id: str | None = None
    lane_id: str | None = None
    manifest_id: str | None = None
    plate: str | None = None


async def apply_action(room: ControlRoom, gate: Gate, req: Request) -> Done:
    """Apply `req`; raises ActionRefused (409) or ActionNotFound (404)."""
    recorded = clock.wall_clock()
    action_id = f"act-{uuid.uuid4().hex}"
    await room.producer_ready()
    async with room.lock, room.sessions() as session, session.begin():
        await repo.begin_write(session=session, gate_ids=[gate.gate_id])
        await room.outbox.mark_sent(SqlGateStore(session))
        at = await gate_clock(session=session, gate_id=gate.gate_id) or recorded
        board = settle(await load_gate_board(session, gate), gate, now=at)
        decision: LaneDecision | None = None
        lane_event: LaneEventV1 | None = None
        details: dict[str, Any] = {"action_id": action_id, "event_time": at.isoformat()}
        if req.action in ("open_lane", "close_lane"):
            assert req.lane_id is not None
            lane_change_allowed(
                req.lane_id, gate=gate, board=board, open_it=req.action == "open_lane"
            )
            lane_event = LaneEventV1(
                event_id=f"ctl-{uuid.uuid4().hex}",
                gate_id=gate.gate_id,
                kind="lane_opened" if req.action == "open_lane" else "lane_closed",
                at=at,
                lane_id=req.lane_id,
                reason=req.reason,
                actor=req.actor,
            )
            details["lane_event_id"] = lane_event.event_id
        else:
            before = await _decision(session, gate, req.visit_id)
            applied = await _apply_to_decision(
                session, room, gate=gate, req=req, before=before, board=board, at=at
            )
            decision, board = applied.decision, applied.board
            await store.save_board(
                session=session, gate_id=gate.gate_id, board=board_to_json(board), now=at
            )
            await store.revise_decisions(session=session, decisions=[decision])
            details |= {
                "before": {
                    "decision_id": before.decision_id,
                    "outcome": before.outcome.value,
                    "lane_id": before.lane_id,
                    "manifest_id": before.manifest_id,
                },
                "after": {
                    "decision_id": decision.decision_id,
                    "outcome": decision.outcome.value,
                    "lane_id": decision.lane_id,
                    "manifest_id": decision.manifest_id,
                    "carrier_slot": decision.carrier_slot,
                    "reason": decision.reason,
                },
            }
        entry = await append_entry(
            session=session,
            actor=req.actor,
            action=req.action,
            gate_id=gate.gate_id,
            target=str(req.lane_id if req.action in ("open_lane", "close_lane") else req.visit_id),
            reason=req.reason,
            details=details
            | {
                k: v
                for k, v in (
                    ("lane_id", req.lane_id),
                    ("manifest_id", req.manifest_id),
                    ("plate", req.plate),
                )
                if v
            },
            at=recorded,
        )
        record = ControllerActionV1(
            action_id=action_id,
            audit_seq=entry.seq,
            gate_id=gate.gate_id,
            action=req.action,
            actor=req.actor,
            reason=req.reason,
            at=at,
            recorded_at=recorded,
            visit_id=req.visit_id,
            lane_id=req.lane_id,
            manifest_id=req.manifest_id,
            plate=req.plate,
            decision_id=None if decision is None else decision.decision_id,
            outcome=None if decision is None else decision.outcome.value,
        )
        # sent before the commit: a send that fails rolls the action and its entry back
        await _send(
            room,
            topic=CONTROLLER_ACTIONS.name,
            key=gate.gate_id,
            body=record,
            event_id=action_id,
            type_=CONTROLLER_ACTION_TYPE,
            at=at,
        )
        if lane_event is not None:
            await _send(
                room,
                topic=LANE_EVENTS.name,
                key=gate.gate_id,
                body=lane_event,
                event_id=lane_event.event_id,
                type_=LANE_EVENT_TYPE,
                at=at,
            )
    room.outbox.committed()
    if decision is not None:
        try:
            await room.outbox.send([decision])
            await room.outbox.drain()  # marks it published now (no later action may come)
        except KafkaError as exc:  # durable already: it leaves with the next drain
            log.warning("decision %s not yet published: %s", decision.decision_id, exc)
    return Done(action_id, entry.seq, decision, None if lane_event is None else lane_event.event_id)


async def _send(
    room: ControlRoom,
    *,
    topic: str,
    key: str,
    body: BaseModel,
    event_id: str,
    type_: str,
    at: datetime,
) -> None:
    value, headers = encode_enveloped(
        body, event_id=event_id, type_=type_, occurred_at=at, producer="borderflow.control-room"
    )
    await room.producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers)


async def _decision(session: AsyncSession, gate: Gate, visit_id: str | None) -> LaneDecision:
    row = await session.scalar(
        select(DecisionRow)
        .where(DecisionRow.visit_id == visit_id)
        .execution_options(populate_existing=True)
    )
    if row is None or row.gate_id != gate.gate_id:
        raise ActionNotFound(f"visit_id: no decided visit {visit_id!r} at gate {gate.gate_id!r}")
    return decision_from_row(row)


async def _apply_to_decision(
    session: AsyncSession,
    room: ControlRoom,
    *,
    gate: Gate,
    req: Request,
    before: LaneDecision,
    board: Any,
    at: datetime,
) -> Applied:
    what = {
        "pick_manifest": f"manifest {req.manifest_id} picked by {req.actor}",
        "confirm_plate": f"plate {req.plate} confirmed by {req.actor}",
        "reassign": f"reassigned to {req.lane_id} by {req.actor}",
        "hold": f"held by {req.actor}",
        "release": f"released by {req.actor}",
    }[req.action] + f" ({req.reason})"
    if req.action == "reassign":
        assert req.lane_id is not None
        return reassign(before, req.lane_id, gate=gate, board=board, what=what, now=at)
    if req.action == "hold":
        return hold(before, board=board, what=what, now=at)
    visit = await session.get(VisitRow, before.visit_id)
    assert visit is not None
    direction = Direction(visit.direction)
    if req.action == "pick_manifest":
        manifest = await _manifest(session, req.manifest_id)
    elif req.action == "confirm_plate":
        manifest = await _manifest_by_plate(session, req.plate or "", direction, at)
    else:  # release
        if before.manifest_id is None:
            raise ActionRefused(
                "visit_id: no manifest attributed to this visit; pick one or confirm the plate"
            )
        manifest = await _manifest(session, before.manifest_id)
    if manifest.direction is not direction:
        raise ActionRefused(
            f"manifest_id: {manifest.manifest_id} is for {manifest.direction}; "
            f"seen at an {direction} camera"
        )
    return place_with_manifest(
        before,
        manifest,
        arrived_at=visit.first_seen_at,
        gate=gate,
        board=board,
        policy=room.policy,
        what=what,
        now=at,
        plate=normalise_plate(req.plate or "") if req.action == "confirm_plate" else None,
    )


async def _manifest(session: AsyncSession, manifest_id: str | None) -> Manifest:
    row = await session.get(ManifestRow, manifest_id or "")
    if row is None:
        raise ActionNotFound(f"manifest_id: no manifest {manifest_id!r}")
    return manifest_from_row(row)


async def _manifest_by_plate(
    session: AsyncSession, plate: str, direction: Direction, at: datetime
) -> Manifest:
    wanted = normalise_plate(plate)
    if not wanted:
        raise ActionRefused(f"plate: {plate!r} has no letter or digit")
    found = [
        m
        for m in await manifests_for_keys(
            session=session, keys={folded_key(wanted)}, ended_after=at - timedelta(days=1)
        )
        if normalise_plate(m.tractor_plate) == wanted and m.direction is direction
    ]
    if not found:
        raise ActionRefused(f"plate: no open {direction} manifest for tractor {wanted}")
    if len(found) > 1:
        ids = ", ".join(m.manifest_id for m in found)
        raise ActionRefused(f"plate: {wanted} is on several manifests ({ids}); pick one")
    return found[0]
