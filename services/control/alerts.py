"""The controllers' alert workflow (issue 22): list a gate's alerts, and acknowledge,
escalate or dismiss one. A change goes to its use case (services/service_layer/control.py,
`ChangeAlertStatus`): checked (an unknown alert is 404, a dismissed one or the same status
again 409; a viewer is 403 here: problem+json all), written with its audit entry in one
transaction (the hash chain of services/db/audit.py), and announced on `borderflow.alerts`
before the commit (a send that fails rolls it back: 503)."""

from __future__ import annotations

from typing import Annotated, Any

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel

from services.alerts import store
from services.alerts.outbox import send_alert
from services.api.problems import ProblemError, problems
from services.control import auth
from services.control.auth import SessionDep
from services.control.reasons import Reason
from services.control.state import RoomDep
from services.db.controllers import SessionInfo
from services.service_layer.control import (
    AlertChangeRefused,
    AlertStatusChanged,
    ChangeAlertStatus,
)
from streams import clock
from streams.alerts import AlertV1

router = APIRouter(tags=["control room"])

PRODUCER_NAME = "borderflow.control-room"
# the action in the URL -> the status it sets
STATUS = {"acknowledge": "acknowledged", "escalate": "escalated", "dismiss": "dismissed"}
AlertId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class AlertAction(BaseModel):
    reason: Reason


async def _controller(request: Request, info: SessionDep) -> SessionInfo:
    """The acting controller (CSRF checked); its refusal a not-allowed problem naming the
    header or the role (`auth.acting_session`)."""
    return await auth.acting_session(request, info)


ControllerDep = Annotated[SessionInfo, Depends(_controller)]


class AlertDone(BaseModel):
    alert: dict[str, Any]
    audit_seq: int


@router.get("/control/api/alerts", responses=problems(401, 404, 503))
async def alerts(
    room: RoomDep,
    _: SessionDep,
    gate: Annotated[str | None, Query()] = None,
    closed: Annotated[bool, Query(description="dismissed ones too")] = False,
) -> dict[str, Any]:
    """The gate's alerts, newest first (open, acknowledged and escalated; `closed=true`
    adds the dismissed)."""
    gate_id = room.gate(gate).gate_id
    async with room.sessions() as session:
        rows = await store.list_alerts(session=session, gate_id=gate_id, include_closed=closed)
    return {"gate_id": gate_id, "items": [store.row_json(r) for r in rows]}


@router.post(
    "/control/api/alerts/{alert_id}/{action}",
    response_model=AlertDone,
    responses=problems(401, 403, 404, 409, 503),
)
async def act_on_alert(
    alert_id: AlertId,
    action: str,
    body: AlertAction,
    room: RoomDep,
    actor: ControllerDep,
) -> AlertDone:
    """Acknowledge, escalate or dismiss an alert (controllers only; `X-CSRF-Token`); every
    refusal is problem+json naming the field."""
    status = STATUS.get(action)
    if status is None:
        raise ProblemError(
            404, "unknown-action", f"{action!r} is not one of {', '.join(STATUS)}", field="action"
        )
    reason = body.reason  # checked by its type: trimmed, 3 to 500 characters, not blank
    if room.handlers is None:
        raise ProblemError(503, "not-configured", "control room: actions not configured")
    producer = await room.producer_ready()
    cmd = ChangeAlertStatus(
        alert_id=alert_id,
        action=action,
        status=status,
        actor=actor.controller.username,
        reason=reason,
        recorded_at=clock.wall_clock(),
    )

    async def announce(changed: AlertStatusChanged) -> None:
        wire = AlertV1(**changed.views.wire, audit_seq=changed.audit_seq)
        try:
            future = await send_alert(producer, wire, producer_name=PRODUCER_NAME)
            await future
        except KafkaError as exc:
            raise ProblemError(
                503,
                "broker-unavailable",
                f"broker: unavailable ({type(exc).__name__}); not applied",
            ) from None

    try:
        async with room.lock:
            changed = await room.handlers.change_alert(cmd, announce=announce)
    except AlertChangeRefused as exc:
        code = 404 if exc.kind == "unknown-alert" else 409
        raise ProblemError(code, exc.kind, str(exc), field="alert_id") from None
    if changed.gate_id:
        room.hub.notify(changed.gate_id)
    return AlertDone(alert=dict(changed.views.shown), audit_seq=changed.audit_seq)
