"""A controller's action, from the HTTP request to the use case: the route's `Request`
becomes the `ApplyAction` command for its handler (services/service_layer/control.py: the
domain's check, the transaction with its audit entry, the revised decision through the
outbox), and the handler's announcement goes on Kafka before the commit: the action on
`borderflow.controller-actions`, for a lane opened or closed or a carrier taken out of
service or put back the lane event the orchestrator applies (which re-plans the lane's
trucks, the carrier's trips), and for a truck released that an
alert held the alert's `released` change on `borderflow.alerts`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from lanes.model import Gate, LaneDecision
from services.alerts.outbox import send_alert
from services.api.problems import ProblemError
from services.control.state import PRODUCER_NAME, ControlRoom
from services.service_layer.control import BOARD_EVENTS, ActionNotFound, ActionTaken, ApplyAction
from streams import clock
from streams.alerts import AlertV1
from streams.codec import encode_enveloped
from streams.lane_events import LANE_EVENT_TYPE, LaneEventV1
from streams.topics import CONTROLLER_ACTIONS, LANE_EVENTS

__all__ = ["ActionNotFound", "Done", "Request", "apply_action"]

CONTROLLER_ACTION_TYPE = "controller_action"
log = logging.getLogger(__name__)


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
    carrier_id: str | None = None
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
    carrier_id: str | None = None


async def apply_action(room: ControlRoom, gate: Gate, req: Request) -> Done:
    """Apply `req`; raises ActionRefused (409; UnknownTarget, 404) or ActionNotFound (404)."""
    if room.handlers is None:
        raise ProblemError(503, "not-configured", "control room: actions not configured")
    lane = req.action in BOARD_EVENTS
    cmd = ApplyAction(
        action=req.action,
        gate_id=gate.gate_id,
        actor=req.actor,
        reason=req.reason,
        action_id=f"act-{uuid.uuid4().hex}",
        recorded_at=clock.wall_clock(),
        visit_id=req.visit_id,
        lane_id=req.lane_id,
        manifest_id=req.manifest_id,
        plate=req.plate,
        carrier_id=req.carrier_id,
        lane_event_id=f"ctl-{uuid.uuid4().hex}" if lane else None,
    )
    await room.producer_ready()

    async def announce(taken: ActionTaken) -> None:
        await _announce(room, taken)

    async with room.lock:
        taken = await room.handlers.apply(cmd, announce=announce)
    return Done(cmd.action_id, taken.audit_seq, taken.decision, cmd.lane_event_id)


async def _announce(room: ControlRoom, taken: ActionTaken) -> None:
    """The action on `borderflow.controller-actions`, and its lane event, if any."""
    cmd, decision = taken.cmd, taken.decision
    record = ControllerActionV1(
        action_id=cmd.action_id,
        audit_seq=taken.audit_seq,
        gate_id=cmd.gate_id,
        action=cmd.action,
        actor=cmd.actor,
        reason=cmd.reason,
        at=taken.at,
        recorded_at=cmd.recorded_at,
        visit_id=cmd.visit_id,
        lane_id=cmd.lane_id,
        manifest_id=cmd.manifest_id,
        plate=cmd.plate,
        carrier_id=cmd.carrier_id,
        decision_id=None if decision is None else decision.decision_id,
        outcome=None if decision is None else decision.outcome.value,
    )
    await _send(room, CONTROLLER_ACTIONS.name, record, CONTROLLER_ACTION_TYPE, cmd.action_id, taken)
    if taken.lane_event is not None:
        assert cmd.lane_event_id is not None
        lane_event = LaneEventV1(
            event_id=cmd.lane_event_id,
            gate_id=cmd.gate_id,
            kind=taken.lane_event,  # lane_opened / lane_closed / carrier_out / carrier_back
            at=taken.at,
            lane_id=cmd.lane_id,
            carrier_id=cmd.carrier_id,
            reason=cmd.reason,
            actor=cmd.actor,
        )
        await _send(room, LANE_EVENTS.name, lane_event, LANE_EVENT_TYPE, lane_event.event_id, taken)
    for views in taken.released:  # the alerts that held the truck: released, by whom, when
        alert = AlertV1(**views.wire, audit_seq=taken.audit_seq)
        await (await send_alert(room.producer, alert, producer_name=PRODUCER_NAME))


async def _send(  # noqa: PLR0917
    room: ControlRoom, topic: str, body: BaseModel, type_: str, event_id: str, taken: ActionTaken
) -> None:
    """One record, keyed by the gate, timed by the action's event time: the record's
    timestamp too (call-forward skips a lane event whose `at` is minutes ahead of its
    record's timestamp; under `borderflow up --speedup` the gate's event time runs ahead of
    the wall clock, and a lane closed from the control room was skipped by call-forward
    until 2026-12-05)."""
    value, headers = encode_enveloped(
        body, event_id=event_id, type_=type_, occurred_at=taken.at, producer=PRODUCER_NAME
    )
    key = taken.cmd.gate_id.encode()
    await room.producer.send_and_wait(
        topic,
        value=value,
        key=key,
        headers=headers,
        timestamp_ms=int(taken.at.timestamp() * 1000),
    )
