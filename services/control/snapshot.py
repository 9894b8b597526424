"""What the control-room page shows for one gate, read from the database in one go: every
lane with its trucks in order, the carriers and the yard, today's KPIs, the review queue.
Built once per change and shared by every connected page."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lanes.actions import lanes_to_move_to
from lanes.model import ALWAYS, CustomsChannel, DailyHours, Gate
from lanes.policy.hours import hours_now
from lanes.policy.truck import cargo_classes
from services.alerts.store import panel as alert_panel
from services.alerts.store import panel_counts as alert_counts
from services.api import queries
from services.api.review import review_page
from services.db.board_tables import HELD, GateBoardRow, LaneEventRow
from services.db.tables import DecisionRow, LaneRow, ManifestRow, VisitRow

REVIEW_LIMIT = 50
LANE_LIMIT = 20  # trucks shown per lane (the rest counted): a column, not a list of 500
RECENT_LIMIT = 200  # the newest decisions, whatever their outcome
REASON_CHARS = 80


async def gate_clock(*, session: AsyncSession, gate_id: str) -> datetime | None:
    """The gate's event time: the newest read's (what actions and the page are timed by)."""
    return await queries.latest_event_time(session=session, gate_id=gate_id)


async def build_snapshot(*, session: AsyncSession, gate: Gate, now: datetime) -> dict[str, Any]:
    """The page's state (JSON types only). `as_of` is the gate's event time (wall clock
    before the first read); `generated_at` the wall clock."""
    gate_id = gate.gate_id
    as_of = await gate_clock(session=session, gate_id=gate_id) or now
    lanes = (
        await session.scalars(
            select(LaneRow).where(LaneRow.gate_id == gate_id).order_by(LaneRow.lane_id)
        )
    ).all()
    rows = await session.execute(
        select(
            DecisionRow.visit_id,
            DecisionRow.plate,
            DecisionRow.manifest_id,
            DecisionRow.lane_id,
            DecisionRow.carrier_slot,
            DecisionRow.reason,
            DecisionRow.revision,
            DecisionRow.decided_at,
            DecisionRow.expected_start_at,
            DecisionRow.expected_done_at,
            VisitRow.first_seen_at,
            ManifestRow.firm_id,
            ManifestRow.perishable,
            ManifestRow.hazmat_class,
            ManifestRow.containers,
            ManifestRow.customs_channel,
            ManifestRow.customs_status,
        )
        .outerjoin(VisitRow, VisitRow.visit_id == DecisionRow.visit_id)
        .outerjoin(ManifestRow, ManifestRow.manifest_id == DecisionRow.manifest_id)
        .where(
            DecisionRow.gate_id == gate_id,
            DecisionRow.outcome == "assigned",
            DecisionRow.expected_done_at > as_of,
        )
        .order_by(DecisionRow.expected_start_at, DecisionRow.decision_id)
    )
    service = {lane.lane_id: lane.service_time for lane in gate.lanes}
    hours = {lane.lane_id: lane.hours for lane in gate.lanes}
    by_lane: dict[str, list[dict[str, Any]]] = {lane.lane_id: [] for lane in lanes}
    counts: dict[str, int] = dict.fromkeys(by_lane, 0)
    waiting = 0
    on_carriers: list[dict[str, Any]] = []
    for row in rows:
        queued_at = row.expected_start_at is None or _aware(row.expected_start_at) > as_of
        waiting += row.lane_id in by_lane and queued_at
        if row.lane_id in by_lane:
            counts[row.lane_id] += 1
            if counts[row.lane_id] <= LANE_LIMIT:
                by_lane[row.lane_id].append(_truck(row, service, as_of) | _moves(row, gate))
        elif row.carrier_slot:
            on_carriers.append(_truck(row, service, as_of))
    review = await review_page(session=session, gate_id=gate_id, limit=REVIEW_LIMIT, after=None)
    return {
        "gate_id": gate_id,
        "gate_name": gate.name,
        "utc_offset_min": int(gate.utc_offset.total_seconds() // 60),
        "as_of": as_of.isoformat(),
        "generated_at": now.isoformat(),
        "lanes": [
            {
                "lane_id": lane.lane_id,
                "direction": lane.direction,
                "kind": lane.kind,
                "is_open": lane.is_open,
                "service_min": round(lane.service_seconds / 60, 1),
                "trucks": by_lane[lane.lane_id],
                "more": max(0, counts[lane.lane_id] - LANE_LIMIT),
                "hours": _hours(hours.get(lane.lane_id, ALWAYS), as_of, gate),
            }
            for lane in sorted(lanes, key=_lane_order)
        ],
        "carriers": await _carriers(session, gate_id, on_carriers),
        "kpis": await _kpis(
            session,
            gate,
            as_of,
            waiting=waiting,
        ),
        "review": review.model_dump(mode="json")["items"],
        "needs_review": await _review_count(session, gate_id),
        "recent": await _recent(session, gate_id),
        # issue 22: the risk alerts, what a controller sees first
        "alerts": await alert_panel(session=session, gate_id=gate_id, as_of=as_of),
        # how many there are, the 50 listed or not: `open`, `total` (not dismissed)
        "alert_counts": await alert_counts(session=session, gate_id=gate_id),
        "held_events": await _held_events(session, gate_id),
    }


HELD_LIMIT = 20  # held lane events listed (a gateway with its clock off may send many)


async def _held_events(session: AsyncSession, gate_id: str) -> list[dict[str, Any]]:
    """The gate's lane events dated more than an hour ahead of its reads, held until they
    reach them (services/service_layer/lane_events.py, LEAD): the board shown is without
    them, and the page says so. Soonest first."""
    rows = await session.scalars(
        select(LaneEventRow)
        .where(LaneEventRow.gate_id == gate_id, HELD)
        .order_by(LaneEventRow.at, LaneEventRow.event_id)
        .limit(HELD_LIMIT)
    )
    return [
        {
            "event_id": r.event_id,
            "kind": r.kind,
            "at": _aware(r.at).isoformat(),
            "lane_id": r.payload.get("lane_id"),
            "carrier_id": r.payload.get("carrier_id"),
            "visit_id": r.payload.get("visit_id"),
        }
        for r in rows
    ]


def _truck(row: Any, service: Mapping[str, timedelta], as_of: datetime) -> dict[str, Any]:
    arrived = _aware(row.first_seen_at or row.decided_at)
    start = None if row.expected_start_at is None else _aware(row.expected_start_at)
    done = None if row.expected_done_at is None else _aware(row.expected_done_at)
    known = row.firm_id is not None
    return {
        "visit_id": row.visit_id,
        "plate": row.plate,
        "manifest_id": row.manifest_id,
        "firm_id": row.firm_id,
        "perishable": bool(row.perishable),
        "hazmat": row.hazmat_class,
        "containers": len(row.containers or ()) if known else 0,
        "channel": _channel(row.customs_channel, row.customs_status),
        "carrier_slot": row.carrier_slot,
        "arrived_at": arrived.isoformat(),
        "expected_start_at": None if start is None else start.isoformat(),
        "expected_done_at": None if done is None else done.isoformat(),
        "in_service": start is not None and start <= as_of,
        "service_min": round(service.get(row.lane_id or "", timedelta()).total_seconds() / 60, 1),
        # the start of the reason (who or what placed it, and why); the full text is in the
        # decision (GET /v1/review, the lane-decisions topic)
        "reason": row.reason
        if len(row.reason) <= REASON_CHARS
        else row.reason[:REASON_CHARS] + "…",
        "revision": row.revision,
    }


def _hours(hours: DailyHours, as_of: datetime, gate: Gate) -> dict[str, Any]:
    """The lane's open hours from the gate file (`windows`, local; none: at all hours),
    whether the gate's clock is within them, and when that changes (UTC)."""
    now = hours_now(hours, as_of, gate.utc_offset)
    return {
        "windows": list(now.windows),
        "in_hours": now.in_hours,
        "changes_at": None if now.changes_at is None else now.changes_at.isoformat(),
    }


def _moves(row: Any, gate: Gate) -> dict[str, list[str]]:
    """`moves_to`: the lanes the gate file lets a controller move this queued truck to (its
    direction, cargo and channel: the page's "Move…" offers those of them that are open);
    none for a truck without a manifest or a channel."""
    channel = _channel(row.customs_channel, row.customs_status)
    if row.firm_id is None or channel is None:
        return {"moves_to": []}
    cargo = cargo_classes(
        containers=len(row.containers or ()),
        perishable=bool(row.perishable),
        hazmat_class=row.hazmat_class,
    )
    lanes = lanes_to_move_to(row.lane_id, gate=gate, cargo=cargo, channel=CustomsChannel(channel))
    return {"moves_to": list(lanes)}


def _channel(channel: str | None, status: str | None) -> str | None:
    return channel or {"cleared": "green", "inspect": "red"}.get(status or "")


async def _carriers(
    session: AsyncSession, gate_id: str, on_carriers: list[dict[str, Any]]
) -> dict[str, Any]:
    row = await session.get(GateBoardRow, gate_id)
    board = {} if row is None else dict(row.board)
    yard = board.get("yard") or {}
    return {
        "carriers": [
            {
                "carrier_id": c["carrier_id"],
                "out_of_service": c["out_of_service"],
                "back_at": c["back_at"],
                "load": c["load"],
            }
            for c in board.get("carriers", [])
        ],
        "departures": sorted(
            (
                {
                    "visit_id": e["truck"]["visit_id"] if "truck" in e else e.get("visit_id"),
                    "carrier_id": e.get("carrier_id"),
                    "departs_at": e.get("departs_at"),
                }
                for e in yard.get("queue", [])
            ),
            key=lambda d: str(d["departs_at"]),
        ),
        "trucks": on_carriers,
        "yard_waiting": len(yard.get("waiting", [])),
    }


async def _kpis(
    session: AsyncSession, gate: Gate, as_of: datetime, *, waiting: int
) -> dict[str, Any]:
    """Today (the gate's local day of `as_of`): trucks in (visits first seen today that the
    gate decided), trucks out (assigned and expected done by now), their dwell (first read
    to expected done). A visit of exit reads alone (a truck leaving) or of a truck still in
    a waiting area has no decision, and is not a truck in: until 2026-12-05 each truck was
    counted again when it left (a stranger's try: 5,750 trucks in on a day of 3,000)."""
    local = as_of + gate.utc_offset
    day_start = datetime(local.year, local.month, local.day, tzinfo=UTC) - gate.utc_offset
    trucks_in = await session.scalar(
        select(func.count(func.distinct(DecisionRow.visit_id)))
        .join(VisitRow, VisitRow.visit_id == DecisionRow.visit_id)
        .where(DecisionRow.gate_id == gate.gate_id, VisitRow.first_seen_at >= day_start)
    )
    done = await session.execute(
        select(VisitRow.first_seen_at, DecisionRow.expected_done_at)
        .join(VisitRow, VisitRow.visit_id == DecisionRow.visit_id)
        .where(
            DecisionRow.gate_id == gate.gate_id,
            DecisionRow.outcome == "assigned",
            DecisionRow.expected_done_at >= day_start,
            DecisionRow.expected_done_at <= as_of,
        )
    )
    dwell = sorted((_aware(end) - _aware(start)).total_seconds() / 60 for start, end in done if end)
    return {
        "day_start": day_start.isoformat(),
        "trucks_in": int(trucks_in or 0),
        "trucks_out": len(dwell),
        "dwell_median_min": round(statistics.median(dwell), 1) if dwell else None,
        "dwell_p95_min": round(dwell[min(len(dwell) - 1, int(0.95 * len(dwell)))], 1)
        if dwell
        else None,
        "waiting_now": waiting,
    }


async def _recent(session: AsyncSession, gate_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(
            DecisionRow.decision_id,
            DecisionRow.visit_id,
            DecisionRow.plate,
            DecisionRow.outcome,
            DecisionRow.lane_id,
            DecisionRow.carrier_slot,
            DecisionRow.decided_at,
        )
        .where(DecisionRow.gate_id == gate_id)
        .order_by(DecisionRow.decided_at.desc(), DecisionRow.decision_id.desc())
        .limit(RECENT_LIMIT)
    )
    return [
        {
            "decision_id": decision_id,
            "visit_id": visit_id,
            "plate": plate,
            "outcome": outcome,
            "place": lane_id or carrier_slot,
            "decided_at": _aware(at).isoformat(),
        }
        for decision_id, visit_id, plate, outcome, lane_id, carrier_slot, at in rows
    ]


async def _review_count(session: AsyncSession, gate_id: str) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(DecisionRow)
        .where(DecisionRow.gate_id == gate_id, DecisionRow.outcome == "needs_review")
    )
    return int(count or 0)


def _lane_order(lane: LaneRow) -> tuple[str, str, int, str]:
    """Export lanes first, then by id with its number as a number (HN-E2 before HN-E10)."""
    head = lane.lane_id.rstrip("0123456789")
    tail = lane.lane_id[len(head) :]
    return (lane.direction, head, int(tail) if tail else 0, lane.lane_id)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
