"""The control room's view of the other side (issue 21): `GET /v1/xborder/state`, staff
only. For this side's gate: the link (waiting, unacknowledged, last sequence each way), the
alerts at the gate clock (overdue, mismatch, with their evidence) and the newest crossings
with both sides' facts: announced, left, entered."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from lanes.crossings import Crossing, Sighting, reconcile
from services.xborder import store as xstore
from services.xborder.corridor import GateCorridor, corridor_of

router = APIRouter(prefix="/v1/xborder", tags=["cross-border"])
SHOWN = 200


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


class AlertView(BaseModel):
    alert_id: str
    kind: str
    crossing_id: str
    at: datetime
    explanation: str
    evidence: dict[str, str]


class LinkView(BaseModel):
    side: str
    peer_gate_id: str
    waiting: int
    unacked: int
    last_sent: int
    last_received: int


class XborderState(BaseModel):
    gate_id: str
    gate_clock: datetime | None
    link: LinkView
    alerts: list[AlertView]
    crossings: list[CrossingView]


@cache
def packaged_corridors() -> dict[str, GateCorridor]:
    folder = Path(str(resources.files("services.gates")))
    found = {}
    for path in sorted([*folder.glob("*.toml"), *folder.glob("cn/*.toml")]):
        corridor = corridor_of(path)
        if corridor is not None:
            found[corridor.gate_id] = corridor
    return found


@router.get("/state", response_model=XborderState)
async def xborder_state(request: Request) -> XborderState:
    """This side's view of the crossings between the two sides of its gate."""
    ctx: Any = request.app.state.context
    corridor = packaged_corridors().get(ctx.default_gate)
    if corridor is None:
        raise HTTPException(
            status_code=404, detail=f"gate {ctx.default_gate!r} has no [corridor] in its file"
        )
    async with ctx.sessions() as session:
        link = await xstore.link_state(session, me=corridor.side)
        crossings = await xstore.all_crossings(session)
    clock = max((t for c in crossings for t in _times(c)), default=None)
    alerts = [] if clock is None else reconcile(crossings, now=clock, corridor=corridor.corridor)
    newest = sorted(crossings, key=lambda c: max(_times(c)), reverse=True)[:SHOWN]
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
        ),
        alerts=[
            AlertView(
                alert_id=a.alert_id,
                kind=a.kind.value,
                crossing_id=a.crossing_id,
                at=a.at,
                explanation=a.explanation,
                evidence=dict(a.evidence),
            )
            for a in alerts
        ],
        crossings=[_view(c) for c in newest],
    )


def _times(crossing: Crossing) -> list[datetime]:
    return [s.at for s in (crossing.notice, crossing.exit, crossing.entry) if s is not None]


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
