"""Read models for the API."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.adapters.sql_callforward import load_queue
from services.api.schemas import (
    LaneQueue,
    QueuedTruck,
    QueueView,
    WaitingAreaView,
    WaitingCall,
    WaitingTruck,
)
from services.db.driver_tables import DriverPageRow
from services.db.tables import DecisionRow, LaneRow, VisitRow
from services.drivers.hub import page_code


async def database_ok(*, session: AsyncSession) -> tuple[bool, str]:
    try:
        await session.execute(text("SELECT 1"))
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"[:300]
    return True, session.get_bind().dialect.name


async def latest_event_time(*, session: AsyncSession, gate_id: str) -> datetime | None:
    value = await session.scalar(
        select(func.max(VisitRow.last_seen_at)).where(VisitRow.gate_id == gate_id)
    )
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


async def queue_view(*, session: AsyncSession, gate_id: str, as_of: datetime) -> QueueView:
    """Each lane of the gate with the trucks assigned to it and not yet through at `as_of`."""
    lanes = (
        await session.scalars(
            select(LaneRow).where(LaneRow.gate_id == gate_id).order_by(LaneRow.lane_id)
        )
    ).all()
    rows = (
        await session.scalars(
            select(DecisionRow)
            .where(
                DecisionRow.gate_id == gate_id,
                DecisionRow.outcome == "assigned",
                DecisionRow.expected_done_at > as_of,
            )
            .order_by(DecisionRow.expected_start_at, DecisionRow.decision_id)
        )
    ).all()
    by_lane: dict[str, list[QueuedTruck]] = {lane.lane_id: [] for lane in lanes}
    for row in rows:
        if row.lane_id in by_lane:
            by_lane[row.lane_id].append(
                QueuedTruck(
                    visit_id=row.visit_id,
                    decision_id=row.decision_id,
                    plate=row.plate,
                    manifest_id=row.manifest_id,
                    decided_at=row.decided_at,
                    expected_start_at=row.expected_start_at,
                    expected_done_at=row.expected_done_at,
                    reason=row.reason,
                )
            )
    review = await session.scalar(
        select(func.count())
        .select_from(DecisionRow)
        .where(DecisionRow.gate_id == gate_id, DecisionRow.outcome == "needs_review")
    )
    return QueueView(
        gate_id=gate_id,
        as_of=as_of,
        lanes=[
            LaneQueue(
                lane_id=lane.lane_id,
                direction=lane.direction,
                kind=lane.kind,
                is_open=lane.is_open,
                trucks=by_lane[lane.lane_id],
            )
            for lane in lanes
        ],
        needs_review=int(review or 0),
    )


async def waiting_area_view(
    *, session: AsyncSession, gate_id: str, secret: bytes
) -> WaitingAreaView:
    """The gate's waiting areas as call-forward saved them after its last batch (empty
    before its first): each truck in service order, its position in its direction's line
    while not called, its latest call once called, and its driver's page's short code
    (under the pages' `secret`)."""
    saved = await load_queue(session, gate_id)
    if saved is None:
        return WaitingAreaView(gate_id=gate_id, stepped_to=None, trucks=[])
    queue = saved.queue
    plates = {visit: plate for plate, visit in saved.plates.items()}
    keys = {
        w.truck.visit_id: saved.pages.get(w.truck.visit_id, w.truck.visit_id) for w in queue.waiting
    }
    # the code each page was given, as stored: one given before the codes lost their vowels
    # (2026-12-06) is still its code, and the slip printed from here must say it
    rows = await session.execute(
        select(DriverPageRow.page_key, DriverPageRow.code).where(
            DriverPageRow.page_key.in_(list(keys.values()))
        )
    )
    given = {page_key: code for page_key, code in rows}
    trucks = []
    for waiting in queue.waiting:
        truck, call = waiting.truck, waiting.call
        key = keys[truck.visit_id]
        trucks.append(
            WaitingTruck(
                visit_id=truck.visit_id,
                manifest_id=truck.manifest_id,
                plate=plates.get(truck.visit_id),
                direction=truck.direction.value,
                area_id=waiting.area_id,
                entered_at=waiting.entered_at,
                booking=truck.booking.value,
                channel=truck.channel.value,
                position=queue.position(truck.visit_id),
                short_code=given.get(key) or page_code(secret, key),
                call=None
                if call is None
                else WaitingCall(
                    call_id=call.call_id,
                    kind=call.kind.value,
                    lane_id=call.lane_id,
                    carrier_slot=call.carrier_slot,
                    called_at=call.called_at,
                    due_at=call.due_at,
                    deadline=call.deadline,
                    calls=waiting.calls,
                ),
            )
        )
    return WaitingAreaView(gate_id=gate_id, stepped_to=saved.stepped_to, trucks=trucks)
