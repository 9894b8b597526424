"""Days of history for the benches and tests: what the live decider would have left in the tables
after `days` simulated days at a gate, bulk-inserted before a measured run (issue 26 item 5).

Each day is `services.simulation.plan.plan_traffic` (its trucks, manifests and plate reads,
seeded by the day). From it, as the decider stores them: the plate reads (wire payload as
received), one visit per truck and the plate's track, one decision per visit (published),
the manifests with their version and plate keys (`upsert_manifests`, the repository's own
write), a booking for every fourth manifest (used, or a no-show for one in twenty) with its
booking events, an alert for one truck in 200 (dismissed; `alert_every`), and the
controllers' actions in the audit log (services/simulation/history_audit.py). All of it is
dated in the `days` days before `before`: none of it open or pending at the measured run.
Not filled: the archive (`event_archive`, `archive_batches`), weighings and lane events,
which no per-batch query reads back (or, for weighings, the bench does not send)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lanes.booking import Booking
from lanes.bookings import BookingState
from lanes.model import Direction, Gate, LaneDecision, MatchOutcome, Outcome
from lanes.visits import VisitTrack
from services.db import repository as repo
from services.db.alert_tables import AlertRow
from services.db.booking_tables import BookingEventRow, BookingRow
from services.db.bookings import event_payload
from services.db.control_tables import AuditRow
from services.db.convert import decision_values
from services.db.engine import session_factory
from services.db.manifests import upsert_manifests
from services.db.tables import DecisionRow, VisitRow
from services.simulation.history_audit import ChainEnd, audit_day
from services.simulation.plan import SimulatedTruck, TrafficPlan, plan_traffic

TRUCKS_PER_DAY = 3_400  # 30 days: ~100,000 manifests, ~350,000 reads
CHUNK = 5_000  # rows per insert statement
TABLES = (
    "plate_reads",
    "visits",
    "plate_tracks",
    "lane_decisions",
    "manifests",
    "manifest_versions",
    "manifest_plate_keys",
    "bookings",
    "booking_events",
    "alerts",
    "audit_log",
)


@dataclass
class HistoryCounts:
    days: int = 0
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


async def fill_history(
    engine: AsyncEngine,
    gate: Gate,
    *,
    days: int,
    before: datetime,
    trucks_per_day: int = TRUCKS_PER_DAY,
    alert_every: int = 200,
    hold_every: int = 50,
    bookings: bool = True,
) -> HistoryCounts:
    """Insert `days` simulated days ending at `before` (one transaction a day), then ANALYZE
    on PostgreSQL, as autovacuum would have done on a database this size. One truck in
    `alert_every` has an alert (dismissed), one in `hold_every` a controller's hold in the
    audit log, with each lane's and carrier's changes. `bookings=False`: no bookings nor
    booking events (to tell their share of a bench's cost: the alert step reads 7 days of
    them a batch)."""
    counts = HistoryCounts(days=days)
    seq, chain = 0, ChainEnd()
    for day in range(days):
        start = before - timedelta(days=days - day)
        plan = plan_traffic(gate=gate, trucks=trucks_per_day, start=start, seed=10_000 + day)
        async with session_factory(engine)() as session, session.begin():
            seq = await _store_day(
                session,
                gate,
                plan,
                day=day,
                seq=seq,
                alert_every=alert_every,
                bookings=bookings,
                counts=counts,
            )
            entries, chain = audit_day(
                gate, plan.trucks, day=day, start=start, hold_every=hold_every, end=chain
            )
            await _bulk(session, AuditRow, entries)
            counts.add("audit_log", len(entries))
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            for table in TABLES:
                await conn.execute(text(f'ANALYZE "{table}"'))
    return counts


async def _store_day(
    session: AsyncSession,
    gate: Gate,
    plan: TrafficPlan,
    *,
    day: int,
    seq: int,
    alert_every: int,
    bookings: bool,
    counts: HistoryCounts,
) -> int:
    by_id = {r.event_id: r for r in plan.reads}
    reads: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    tracks: list[VisitTrack] = []
    decisions: list[dict[str, Any]] = []
    lanes = {d: [lane.lane_id for lane in gate.lanes if lane.direction is d] for d in Direction}
    for truck in plan.trucks:
        own = sorted((by_id[e] for e in truck.read_ids), key=lambda r: r.captured_at)
        visit_id = f"h{day:03d}-{truck.truck_no:05d}"
        first, last = own[0].captured_at, own[-1].captured_at
        reads += [
            {
                "event_id": r.event_id,
                "camera_id": r.camera_id,
                "gate_id": gate.gate_id,
                "captured_at": r.captured_at,
                "plate_text": r.plate_text,
                "plate": truck.plate,
                "confidence": r.confidence,
                "payload": r.model_dump(mode="json"),
                "visit_id": visit_id,
                "source_topic": "borderflow.plate-reads",
                "source_partition": 0,
                "source_offset": 0,
                "received_at": r.captured_at,
            }
            for r in own
        ]
        track = VisitTrack(
            gate_id=gate.gate_id,
            plate=truck.plate,
            visit_id=visit_id,
            direction=truck.direction,
            first_seen_at=first,
            last_seen_at=last,
            read_count=len(own),
        )
        tracks.append(track)
        visits.append(
            {
                "visit_id": visit_id,
                "gate_id": gate.gate_id,
                "direction": truck.direction.value,
                "plate": truck.plate,
                "first_seen_at": first,
                "last_seen_at": last,
                "read_count": len(own),
            }
        )
        decision = _decision(truck, visit_id, gate.gate_id, lanes[truck.direction], last)
        decisions.append(decision_values(decision) | {"published_at": last})
    await upsert_manifests(
        session=session, manifests=plan.manifests, now=plan.trucks[0].arrival - timedelta(hours=6)
    )
    for start in range(0, len(reads), CHUNK):
        await repo.insert_reads(session=session, rows=reads[start : start + CHUNK])
    await _bulk(session, VisitRow, visits)
    await _bulk(session, DecisionRow, decisions)
    await repo.upsert_tracks(session=session, tracks=_latest(tracks))
    booked, events = _bookings(plan, gate, seq=seq, postgres=repo.is_postgres(session))
    if not bookings:
        booked, events = [], []
    await _bulk(session, BookingRow, booked)
    await _bulk(session, BookingEventRow, events)
    alerts = _alerts(plan.trucks[::alert_every], gate.gate_id)
    await _bulk(session, AlertRow, alerts)
    for table, rows in (
        ("plate_reads", reads),
        ("visits", visits),
        ("lane_decisions", decisions),
        ("bookings", booked),
        ("booking_events", events),
        ("alerts", alerts),
    ):
        counts.add(table, len(rows))
    counts.add("manifests", len(plan.manifests))
    return seq + len(events)


async def _bulk(session: AsyncSession, row: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        await session.execute(
            repo._insert(session, row.__table__), list(rows[start : start + CHUNK])
        )


def _latest(tracks: Sequence[VisitTrack]) -> list[VisitTrack]:
    """One track per plate, its latest visit (a plate may come twice in a day)."""
    out: dict[str, VisitTrack] = {}
    for t in tracks:
        if t.plate not in out or t.last_seen_at > out[t.plate].last_seen_at:
            out[t.plate] = t
    return list(out.values())


def _decision(
    truck: SimulatedTruck, visit_id: str, gate_id: str, lanes: Sequence[str], at: datetime
) -> LaneDecision:
    known = truck.manifest_id is not None
    return LaneDecision(
        decision_id=f"d-{visit_id}",
        visit_id=visit_id,
        gate_id=gate_id,
        plate=truck.plate,
        manifest_id=truck.manifest_id,
        outcome=Outcome.ASSIGNED if known else Outcome.NEEDS_REVIEW,
        match_outcome=MatchOutcome.MATCHED if known else MatchOutcome.UNKNOWN,
        lane_id=lanes[truck.truck_no % len(lanes)] if known else None,
        reason="history" if known else "no manifest close enough",
        decided_at=at,
        read_event_ids=truck.read_ids,
        expected_start_at=at + timedelta(minutes=2) if known else None,
        expected_done_at=at + timedelta(minutes=6) if known else None,
        match_score=0.97 if known else 0.0,
    )


def _bookings(
    plan: TrafficPlan, gate: Gate, *, seq: int, postgres: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A booking for every fourth manifest, created a day ahead, used on arrival (one in
    twenty a no-show, marked an hour after its slot); each with its two booking events."""
    manifests = {m.manifest_id: m for m in plan.manifests}
    bookings: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    booked = [t for t in plan.trucks if t.manifest_id is not None][::4]
    for n, truck in enumerate(booked):
        m = manifests[truck.manifest_id or ""]
        slot_start = truck.arrival.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        created = Booking(
            booking_id=f"bk-{m.manifest_id}",
            firm_id=m.firm_id,
            manifest_id=m.manifest_id,
            gate_id=gate.gate_id,
            direction=m.direction,
            slot_start=slot_start,
            slot_end=slot_start + timedelta(hours=1),
            perishable=m.perishable,
            status=BookingState.ACTIVE,
            created_at=truck.arrival - timedelta(days=1),
            updated_at=truck.arrival - timedelta(days=1),
            version=1,
        )
        ended = (
            created.no_show(created.slot_end + timedelta(hours=1))
            if n % 20 == 19
            else created.used(truck.arrival)
        )
        bookings.append(
            event_payload(ended)
            | {
                "slot_start": ended.slot_start,
                "slot_end": ended.slot_end,
                "created_at": ended.created_at,
                "updated_at": ended.updated_at,
            }
        )
        for i, (booking, kind) in enumerate(
            ((created, "booking.created"), (ended, f"booking.{ended.status.value}"))
        ):
            event = {
                "event_id": f"be-{m.manifest_id}-{i}",
                "booking_id": booking.booking_id,
                "type": kind,
                "payload": event_payload(booking),
                "occurred_at": booking.updated_at,
                "published_at": booking.updated_at,
            }
            if not postgres:  # PostgreSQL numbers them from its sequence
                event["seq"] = seq + len(events) + 1
            events.append(event)
    return bookings, events


def _alerts(trucks: Sequence[SimulatedTruck], gate_id: str) -> list[dict[str, Any]]:
    return [
        {
            "alert_id": f"al-h-{t.plate}-{t.truck_no}-{t.arrival:%Y%m%d}",
            "rule": "clone",
            "severity": "medium",
            "subject": f"plate:{t.plate}",
            "gate_id": gate_id,
            "raised_at": t.arrival,
            "explanation": "history",
            "evidence": list(t.read_ids),
            "hold": False,
            "held_visit_id": None,
            "status": "dismissed",
            "status_by": None,
            "status_reason": None,
            "status_at": None,
            "created_at": t.arrival,
            "published_at": t.arrival,
        }
        for t in trucks
    ]
