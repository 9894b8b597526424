"""The control room's view of the other side (issue 21), staff only: `GET
/v1/xborder/state` (for this side's gate: the link, waiting, unacknowledged, last sequence
each way; the alerts at the gate clock with their evidence and acknowledgement; the newest
crossings with both sides' facts) and `POST /control/api/xborder/alerts/{alert_id}/acknowledge` (a
controller, audited)."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.crossing_clocks import alerts
from lanes.crossings import Crossing, CrossingAlert, Side, Sighting
from services.api.problems import FieldError, ProblemError
from services.api.staff import StaffDep
from services.control.auth import CSRF_HEADER, NotLoggedIn, logged_in
from services.db import repository as repo
from services.db.audit import append_entry
from services.xborder import refusals
from services.xborder import store as xstore
from services.xborder.corridor import GateCorridor, corridor_of
from services.xborder.tables import XborderAlertAckRow, XborderOutboxRow
from streams.clock import wall_clock

router = APIRouter(prefix="/v1/xborder", tags=["cross-border"])
# a control-room action, with the others under /control/api: no write under /v1 takes the
# session cookie for a login (tests/integration/test_staff_cookie.py)
action_router = APIRouter(prefix="/control/api/xborder", tags=["control room"])
SHOWN = 200
REFUSALS_SHOWN = 50
STREAM_S = 300.0  # one stream's life; the page reconnects
STREAM_POLL_S = 1.0  # how often the stream looks at the database (a few staff pages)


class SightingView(BaseModel):
    message_id: str
    at: datetime
    tractor_plate: str
    trailer_plate: str | None
    containers: list[str]


class CrossingView(BaseModel):
    crossing_id: str
    from_side: str
    state: str  # announced, in_transit, entered
    notice: SightingView | None
    exit: SightingView | None
    entry: SightingView | None


class Acknowledgement(BaseModel):
    by: str
    at: datetime
    reason: str


class AlertView(BaseModel):
    # `acknowledged` is always sent (null: not yet): required in the document
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    alert_id: str
    kind: str
    crossing_id: str
    at: datetime
    explanation: str
    evidence: dict[str, str]
    acknowledged: Acknowledgement | None = None


class AcknowledgeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class LinkView(BaseModel):
    side: str
    peer_gate_id: str
    waiting: int
    unacked: int
    last_sent: int
    last_received: int
    refused: int = Field(description="the other side's records refused here, all kept")
    refused_by_peer: int = Field(
        description="this side's messages the other side refused and said so (its refusal)"
    )


class RefusalView(BaseModel):
    """A record of the other side refused here, as its dead letter says it (`dlq.error.type`
    and `dlq.error`), with the message it says it is when that could be read."""

    at: datetime = Field(description="when it was received (this side's wall clock)")
    kind: str = Field(
        description="invalid, replayed, reordered, unsigned, unknown_key, bad_signature or "
        "too_large (over the size limit, never read)"
    )
    sender: str = Field(description="the side whose topic it came on")
    message_id: str | None = Field(description="null when the record could not be read")
    sequence: int | None
    type: str | None
    crossing_id: str | None
    reason: str = Field(description="why, as the dead letter's `dlq.error`")
    record: str = Field(description="`topic:partition:offset` of the record refused")
    acknowledged: bool = Field(
        description="the sender was sent an ack of it (an invalid message takes its place "
        "in the sequence); the others are not acknowledged"
    )


class PeerRefusalView(BaseModel):
    """A message of this side that the other side refused, as its refusal message says it
    (`borderflow.xborder.refusal`, docs/exchange.md)."""

    at: datetime = Field(description="when the refusal came (this side's wall clock)")
    message_id: str = Field(description="this side's message refused")
    sequence: int
    type: str
    crossing_id: str
    kind: str = Field(
        description="invalid, replayed, reordered, unsigned, unknown_key or bad_signature"
    )
    reason: str = Field(description="the other side's reason, as its dead letter gives it")
    text: str = Field(description="'refused by <side>: <reason>', as the page shows it")
    acknowledged: bool = Field(
        description="the other side also acknowledged the message (an invalid one takes its "
        "place in the sequence)"
    )


class XborderState(BaseModel):
    gate_id: str
    gate_clock: datetime | None
    link: LinkView
    alerts: list[AlertView]
    crossings: list[CrossingView]
    refused: list[RefusalView] = Field(
        description=f"the latest {REFUSALS_SHOWN} of the other side's records refused here, "
        "newest first"
    )
    refused_by_peer: list[PeerRefusalView] = Field(
        description=f"the latest {REFUSALS_SHOWN} of this side's messages the other side "
        "refused, newest first"
    )


@cache
def packaged_corridors() -> dict[str, GateCorridor]:
    folder = Path(str(resources.files("services.gates")))
    found = {}
    for path in sorted([*folder.glob("*.toml"), *folder.glob("cn/*.toml")]):
        corridor = corridor_of(path)
        if corridor is not None:
            found[corridor.gate_id] = corridor
    return found


def _corridor(request: Request) -> tuple[Any, GateCorridor]:
    """The corridor of this side's gate, from the gate files the system runs with (its
    `BORDERFLOW_GATES_DIR`; the packaged ones for a context built without them)."""
    ctx: Any = request.app.state.context
    corridors = packaged_corridors() if ctx.corridors is None else ctx.corridors
    corridor = corridors.get(ctx.default_gate)
    if corridor is None:
        refused = ProblemError(
            404, "no-corridor", f"gate {ctx.default_gate!r} has no [corridor] in its file"
        )
        refused.errors = [FieldError(field="gate", message="has no [corridor] in its file")]
        raise refused
    return ctx, corridor


async def _alerts(
    session: AsyncSession, corridor: GateCorridor
) -> tuple[datetime | None, list[CrossingAlert]]:
    """The alerts true at the gate clock (the second latest event time of the crossings: one
    crossing dated wrong cannot move it, `lanes.crossings.crossings_clock`; with the two
    sides' clocks hours apart, each truck judged on its own side's, and the skew an alert,
    `lanes.crossing_clocks`), read from the crossings that can carry one (and those dated
    well after the clock, which carry a `dated_ahead` alert), not from the whole history.
    The clock returned is on this side's."""
    expected = corridor.corridor.expected_transit
    clock = await xstore.clock_of_alerts(session, expected_transit=expected)
    if clock is None:
        return None, []
    candidates = {c.crossing_id: c for c in await xstore.alert_candidates(session)}
    slack = abs(clock.skew.offset) if clock.skew else timedelta(0)
    for crossing in await xstore.dated_ahead(session, clock=clock.at, slack=slack):
        candidates.setdefault(crossing.crossing_id, crossing)
    found = alerts(candidates.values(), clock=clock, corridor=corridor.corridor)
    return clock.on(corridor.side), found


@router.get("/state", response_model=XborderState)
async def xborder_state(request: Request) -> XborderState:
    """This side's view of the crossings between the two sides of its gate."""
    return await _state(request)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    # an event stream (the document gave the answer no content type at all)
    responses={
        200: {
            "description": "Server-Sent Events: `state` (as `GET /v1/xborder/state` "
            "answers it) at once and on each change, keep-alive comments, `bye` at the end",
            "content": {"text/event-stream": {}},
        }
    },
)
async def xborder_stream(
    request: Request, max_s: Annotated[float, Query(ge=1, le=STREAM_S)] = STREAM_S
) -> StreamingResponse:
    """The same state, live (Server-Sent Events, as the control room's stream): an `event:
    state` at once and each time it changes (looked at every STREAM_POLL_S), keep-alives
    between, `event: bye` after `max_s` (the page reconnects, and its session is checked
    again then). The session is checked again at each look: a controller logged out,
    disabled or with a new password stops seeing the other side at once (`event: bye`
    with the reason); it saw it until `max_s` ran out, up to 5 minutes, until 2026-12-06.
    A server beginning to stop (the context's `stopping`) ends it at once (`event: bye`,
    "server stopping"), as the control room's stream; until 2026-12-06 it ran on until
    uvicorn's graceful timeout cancelled it, a traceback in the log at every stop."""
    _corridor(request)  # 404 before the stream starts
    context = request.app.state.context
    sessions = context.sessions
    stopping: asyncio.Event = getattr(context, "stopping", None) or asyncio.Event()

    async def events() -> AsyncIterator[str]:
        ends = time.monotonic() + max_s
        last = ""
        while time.monotonic() < ends:
            if stopping.is_set():
                yield 'event: bye\ndata: {"reason": "server stopping"}\n\n'
                return
            try:
                await logged_in(request, sessions)
            except NotLoggedIn as exc:
                yield f"event: bye\ndata: {json.dumps({'reason': str(exc)})}\n\n"
                return
            data = (await _state(request)).model_dump_json()
            if data != last:
                yield f"event: state\ndata: {data}\n\n"
                last = data
            else:
                yield ": keep-alive\n\n"
            if await request.is_disconnected():
                return
            pause = min(STREAM_POLL_S, max(0.0, ends - time.monotonic()))
            with contextlib.suppress(TimeoutError):  # the pause ran out: look again
                await asyncio.wait_for(stopping.wait(), pause)
        yield "event: bye\ndata: {}\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _state(request: Request) -> XborderState:
    ctx, corridor = _corridor(request)
    async with ctx.sessions() as session:
        link = await xstore.link_state(session, me=corridor.side)
        clock, alerts = await _alerts(session, corridor)
        newest = await xstore.newest_crossings(session, limit=SHOWN)
        refused, latest_refused = await refusals.latest(session, limit=REFUSALS_SHOWN)
        by_peer, latest_by_peer = await xstore.peer_refusals(session, limit=REFUSALS_SHOWN)
        acks = {
            row.alert_id: Acknowledgement(
                by=row.acknowledged_by, at=row.acknowledged_at, reason=row.reason
            )
            for row in await session.scalars(
                select(XborderAlertAckRow).where(
                    XborderAlertAckRow.alert_id.in_([a.alert_id for a in alerts])
                )
            )
        }
    return XborderState(
        gate_id=corridor.gate_id,
        gate_clock=clock,
        link=LinkView(
            side=corridor.side.value,
            peer_gate_id=corridor.peer_gate_id,
            waiting=link.pending,
            unacked=link.unacked,
            last_sent=link.last_sent,
            last_received=link.last_received,
            refused=refused,
            refused_by_peer=by_peer,
        ),
        alerts=[
            AlertView(
                alert_id=a.alert_id,
                kind=a.kind.value,
                crossing_id=a.crossing_id,
                at=a.at,
                explanation=a.explanation,
                evidence=dict(a.evidence),
                acknowledged=acks.get(a.alert_id),
            )
            for a in alerts
        ],
        crossings=[_view(c) for c in newest],
        refused=[
            RefusalView(
                at=r.received_at,
                kind=r.kind,
                sender=r.sender,
                message_id=r.message_id,
                sequence=r.sequence,
                type=r.message_type,
                crossing_id=r.crossing_id,
                reason=r.reason,
                record=r.source,
                acknowledged=refusals.acknowledged(r),
            )
            for r in latest_refused
        ],
        refused_by_peer=[_peer_refusal(r, corridor.side.other) for r in latest_by_peer],
    )


def _peer_refusal(row: XborderOutboxRow, other: Side) -> PeerRefusalView:
    assert row.peer_refused_at is not None and row.peer_refusal is not None
    return PeerRefusalView(
        at=row.peer_refused_at,
        message_id=row.message_id,
        sequence=row.sequence,
        type=row.message_type,
        crossing_id=row.crossing_id,
        kind=row.peer_refused_kind or "",
        reason=row.peer_refusal,
        text=f"refused by {other.value}: {row.peer_refusal}",
        acknowledged=row.acked_at is not None,
    )


@action_router.post("/alerts/{alert_id}/acknowledge", response_model=Acknowledgement)
async def acknowledge(
    alert_id: str, body: AcknowledgeBody, request: Request, staff: StaffDep
) -> Acknowledgement:
    """A controller (not a viewer; `X-CSRF-Token` required) acknowledges an alert raised
    now, with a reason: stored with the alert's evidence and written to the audit log in
    one transaction. 404 for an alert not raised, 409 if acknowledged already."""
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent, staff.csrf_token):
        raise ProblemError(403, "not-allowed", "missing or wrong", field=CSRF_HEADER)
    if not staff.controller.can_act:
        raise ProblemError(
            403,
            "not-allowed",
            f"{staff.controller.role} cannot act; a controller can",
            field="role",
        )
    ctx, corridor = _corridor(request)
    now = wall_clock()
    async with ctx.sessions() as session, session.begin():
        await repo.begin_write(session=session, gate_ids=[corridor.gate_id])
        _, alerts = await _alerts(session, corridor)
        alert = next((a for a in alerts if a.alert_id == alert_id), None)
        if alert is None:
            raise ProblemError(
                404, "unknown-alert", f"{alert_id!r} is not raised", field="alert_id"
            )
        if await session.get(XborderAlertAckRow, alert_id) is not None:
            raise ProblemError(
                409, "already-acknowledged", f"{alert_id!r} acknowledged already", field="alert_id"
            )
        evidence = dict(alert.evidence)
        session.add(
            XborderAlertAckRow(
                alert_id=alert_id,
                acknowledged_by=staff.controller.username,
                acknowledged_at=now,
                reason=body.reason,
                evidence=evidence,
            )
        )
        await append_entry(
            session=session,
            actor=staff.controller.username,
            action="acknowledge_xborder_alert",
            gate_id=corridor.gate_id,
            target=alert_id,
            reason=body.reason,
            details={"kind": alert.kind.value, "crossing_id": alert.crossing_id, **evidence},
            at=now,
        )
    return Acknowledgement(by=staff.controller.username, at=now, reason=body.reason)


def _sighting(sighting: Sighting | None) -> SightingView | None:
    if sighting is None:
        return None
    truck = sighting.truck
    return SightingView(
        message_id=sighting.message_id,
        at=sighting.at,
        tractor_plate=truck.tractor_plate,
        trailer_plate=truck.trailer_plate,
        containers=list(truck.containers),
    )


def _view(crossing: Crossing) -> CrossingView:
    state = "entered" if crossing.entry else "in_transit" if crossing.exit else "announced"
    return CrossingView(
        crossing_id=crossing.crossing_id,
        from_side=crossing.from_side.value,
        state=state,
        notice=_sighting(crossing.notice),
        exit=_sighting(crossing.exit),
        entry=_sighting(crossing.entry),
    )
