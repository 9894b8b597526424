"""A short recorded run of the real system (broker, decider, lane-event worker, archiver)
for the replay tests: simulated trucks, a lane closed and reopened mid-run."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from lanes.booking import BookingRefused
from lanes.bookings import slot_of
from services.adapters.sql_bookings import SqlBookingStore
from services.bootstrap import build_archiver
from services.db.archive_tables import ArchivedEventRow
from services.db.board_tables import LaneEventRow
from services.db.tables import DecisionRow, ManifestRow
from services.gates.loader import get_gate
from services.runtime.settings import DatabaseSettings
from services.service_layer import bookings as use_cases
from services.simulation.plan import SimulatedTruck
from services.simulation.traffic import plan_traffic, publish_reads, seed_manifests
from streams.codec import encode_enveloped
from streams.lane_events import LANE_EVENT_TYPE, LaneEventV1
from streams.topics import LANE_DECISIONS, LANE_EVENTS, PLATE_READS
from tests.integration.harness import fresh_broker, make_settings, running_system, wait_until

CARRIERS = ("AC-1", "AC-2", "AC-3")
START = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # 07:00 local
# The reads' pace: ~22 simulated minutes in ~1.1 s (x300 before: ~4.5 s of each of the 12
# recordings of the replay tests was the publisher waiting out simulated time). The decider
# still sees many small batches (it polls every 20 ms), and the replay reproduces the
# recorded batches whatever their size.
SPEEDUP = 1200


@dataclass(frozen=True)
class Recording:
    settings: Any
    start: datetime
    end: datetime
    reads: int
    published: int
    trucks: tuple[SimulatedTruck, ...] = ()  # the plan's ground truth


def lane_event(event_id: str, kind: str, target: str, at: datetime) -> tuple[bytes, bytes]:
    where = {"carrier_id" if kind.startswith("carrier") else "lane_id": target}
    event = LaneEventV1.model_validate(
        {"event_id": event_id, "gate_id": "huu-nghi", "kind": kind, "at": at, **where}
    )
    value, _ = encode_enveloped(
        event, event_id=event_id, type_=LANE_EVENT_TYPE, occurred_at=at, producer="test"
    )
    return b"huu-nghi", value


async def record_run(
    tmp_path: Path,
    database: DatabaseSettings,
    *,
    trucks: int = 200,
    seed: int = 7,
    while_up: Callable[[Any], Awaitable[None]] | None = None,
    start: datetime = START,
    manifests_after: bool = False,
    book_every: int = 0,
) -> Recording:
    """Run the system on `trucks` simulated trucks from `start` (event time: any date, past
    or future, the servers' clock says nothing about it), its reads sent at x`SPEEDUP` (the
    decider sees many small batches), with HN-E1 closed for an hour; returns once every
    decision is archived. The broker is gone afterwards: the archive is all that is left.
    `manifests_after`: the manifests are imported only once every truck was decided (an
    archive completed afterwards). `book_every` N: every Nth truck with a manifest books the
    slot of its arrival, the first half's before any read, the second half's mid-run."""
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database, tmp_path)
        async with running_system(settings) as system:
            infra = system.infra
            archiver, archiving = build_archiver(infra)
            task = asyncio.create_task(archiving.run(system.stop))
            await asyncio.wait_for(archiving.ready.wait(), timeout=20)
            gate = get_gate("huu-nghi", infra.gates)
            plan = plan_traffic(
                gate=gate, trucks=trucks, start=start, seed=seed, span=timedelta(minutes=20)
            )
            if not manifests_after:  # stored at the wall-clock time, as `borderflow up` does
                await seed_manifests(infra.sessions, plan.manifests, now=datetime.now(UTC))
            half = len(plan.reads) // 2
            first, second = plan.reads[:half], plan.reads[half:]
            booked = [t for t in plan.trucks if t.manifest_id][::book_every] if book_every else []
            split = second[0].captured_at
            await _book(infra, gate, [t for t in booked if t.arrival < split], start)
            sent = await publish_reads(infra.producer, first, speedup=SPEEDUP, sim_start=start)
            await wait_until(lambda: _handled(system, sent), timeout=60)
            await _book(infra, gate, [t for t in booked if t.arrival >= split], start)
            closed_at = first[-1].captured_at + timedelta(seconds=1)
            back_at = closed_at + timedelta(hours=1)
            lane = await _busy_lane(infra, closed_at)  # one with a truck queued: re-planned
            events = [
                lane_event("le-close", "lane_closed", lane, closed_at),
                lane_event("le-open", "lane_opened", lane, back_at),
                *(lane_event(f"le-out-{c}", "carrier_out", c, closed_at) for c in CARRIERS),
                *(lane_event(f"le-back-{c}", "carrier_back", c, back_at) for c in CARRIERS),
            ]
            for key, value in events:
                await infra.producer.send_and_wait(LANE_EVENTS.name, value=value, key=key)
            await wait_until(lambda: _applied(infra, len(events)), timeout=30)
            sim_start = second[0].captured_at
            sent += await publish_reads(
                infra.producer, second, speedup=SPEEDUP, sim_start=sim_start
            )
            await wait_until(lambda: _handled(system, sent), timeout=60)
            if manifests_after:
                await seed_manifests(infra.sessions, plan.manifests, now=datetime.now(UTC))
            await system.decider.publish_outbox()
            published = await _published(infra)
            await wait_until(lambda: _archived(infra, LANE_DECISIONS.name, published), timeout=30)
            # every input archived too before the archiver stops (a busy machine's archiver
            # may still be behind on the reads, and the archive would then lack a batch)
            read_ids = len({r.event_id for r in plan.reads})
            await wait_until(lambda: _archived(infra, PLATE_READS.name, read_ids), timeout=60)
            await wait_until(lambda: _archived(infra, LANE_EVENTS.name, len(events)), timeout=60)
            system.stop.set()
            await asyncio.wait_for(task, timeout=20)
            assert archiver.stats.archived > 0
            if while_up is not None:  # the broker still holds the topics
                await while_up(settings)
    return Recording(
        settings,
        start - timedelta(hours=1),
        start + timedelta(days=1),
        sent,
        published,
        plan.trucks,
    )


async def _book(infra: Any, gate: Any, trucks: list[Any], start: datetime) -> None:
    """Each truck's firm books the slot of its arrival (refusals, e.g. a full slot, skipped)."""
    firms = {m.manifest_id: m.firm_id for m in await _manifests(infra)}
    for truck in trucks:
        slot_start, _ = slot_of(truck.arrival, gate.booking, gate.utc_offset)
        # a refusal rolls its transaction back (the caller's duty)
        with contextlib.suppress(BookingRefused):
            async with infra.sessions() as session, session.begin():
                await use_cases.book(
                    SqlBookingStore(session),
                    firm_id=firms[truck.manifest_id],
                    manifest_id=truck.manifest_id,
                    gate=gate,
                    slot_start=slot_start,
                    now=start - timedelta(days=1),
                )


async def _manifests(infra: Any) -> list[Any]:
    async with infra.sessions() as session:
        return list(
            (await session.execute(select(ManifestRow.manifest_id, ManifestRow.firm_id))).all()
        )


async def _busy_lane(infra: Any, at: datetime) -> str:
    """A lane on which a truck is expected to start after `at` (HN-E1 if none is)."""
    async with infra.sessions() as session:
        lane = await session.scalar(
            select(DecisionRow.lane_id)
            .where(DecisionRow.expected_start_at > at, DecisionRow.lane_id.is_not(None))
            .order_by(DecisionRow.expected_start_at.desc())
            .limit(1)
        )
    return str(lane or "HN-E1")


async def _applied(infra: Any, count: int) -> bool:
    async with infra.sessions() as session:
        found = await session.scalar(select(func.count()).select_from(LaneEventRow))
    return bool((found or 0) >= count)


async def _handled(system: Any, sent: int) -> bool:
    stats = system.decider.stats
    return bool(stats.reads + stats.duplicates >= sent)


async def _archived(infra: Any, topic: str, count: int) -> bool:
    """At least `count` distinct events of `topic` archived (a re-sent decision is one)."""
    async with infra.sessions() as session:
        found = await session.scalar(
            select(func.count(func.distinct(ArchivedEventRow.event_id))).where(
                ArchivedEventRow.topic == topic
            )
        )
    return bool((found or 0) >= count)


async def _published(infra: Any) -> int:
    """Decisions published (first decisions and revisions), as the topic holds them."""
    async with infra.sessions() as session:
        rows = await session.execute(
            text("SELECT count(*), coalesce(sum(revision), 0) FROM lane_decisions")
        )
        visits, revisions = rows.one()
    return int(visits) + int(revisions)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]
