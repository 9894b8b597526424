"""Risk alerts on the live path (issue 22), on the real broker and database (SQLite and
PostgreSQL): the decider's alert step raises a swap, a clone and an overweight truck from
the reads and weighings it sees, stores each once (the same finding again is the same
alert), publishes them on `borderflow.alerts` keyed by gate, and holds the truck where the
rule says so (its decision revised to review); a bad weighing is dead-lettered."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lanes.containers import check_digit
from services.bootstrap import build_weighing_intake
from services.db.alert_tables import AlertRow, WeighingRow
from services.runtime.settings import DatabaseSettings
from streams.topics import ALERTS, LANE_DECISIONS, WEIGH_IN_MOTION, dead_letter_topic
from tests.integration.harness import (
    as_message,
    collect,
    decision_payloads,
    fresh_broker,
    make_settings,
    manifest,
    publish,
    publish_to,
    read,
    running_system,
    seed,
    wait_until,
    weighing_form,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
DECLARED = "MSCU1234565"
OTHER = f"TGHU876543{check_digit('TGHU876543')}"


def _read(
    event_id: str, plate: str, at: datetime, camera: str, **extra: object
) -> tuple[str, bytes]:
    payload = read(event_id, plate, at, camera=camera) | extra
    return as_message(payload)


async def _count(infra, row, **where) -> int:  # type: ignore[no-untyped-def]
    async with infra.sessions() as session:
        query = select(func.count()).select_from(row)
        for key, value in where.items():
            query = query.where(getattr(row, key) == value)
        return int(await session.scalar(query) or 0)


async def test_alerts_are_raised_stored_once_published_and_hold_the_truck(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            infra = system.infra
            _, weighings = build_weighing_intake(infra)
            stop = asyncio.Event()
            weigh_task = asyncio.create_task(weighings.run(stop))
            try:
                await asyncio.wait_for(weighings.ready.wait(), timeout=20)
                await seed(
                    infra,
                    manifest("MF-1", "29H12345"),
                    manifest("MF-2", "29H22222", containers=(DECLARED,)),
                    replace(manifest("MF-3", "29H33333"), gross_weight_kg=30_000.0),
                    now=T0 - timedelta(days=1),
                )
                # a weighing far above MF-3's declared 30 t, and a malformed one
                good = weighing_form(T0, "29H33333", 44_000)
                await publish_to(
                    broker.bootstrap,
                    WEIGH_IN_MOTION.name,
                    ("wim-1", json.dumps(good).encode()),
                    (
                        "wim-1",
                        json.dumps(good | {"event_id": "w-2", "gross_weight_kg": "44t"}).encode(),
                    ),
                )
                await wait_until(lambda: _count(infra, WeighingRow), timeout=30)
                dead = await collect(
                    broker.bootstrap, dead_letter_topic(WEIGH_IN_MOTION.name), expect=1
                )
                assert len(dead) == 1 and b"gross_weight_kg" in dict(dead[0].headers)["dlq.error"]

                # (one camera: one partition, so these four are handled in this order)
                await publish(
                    broker.bootstrap,
                    # MF-2 with another container at the portal: a swap, which holds it
                    _read("s-1", "29H22222", T0, "hn-exp-gate-1"),
                    _read(
                        "s-2",
                        "29H22222",
                        T0 + timedelta(seconds=40),
                        "hn-exp-gate-1",
                        container_numbers=[OTHER],
                    ),
                    # MF-3, weighed 44 t: overweight
                    _read("w-a", "29H33333", T0 + timedelta(seconds=60), "hn-exp-gate-1"),
                    _read("w-g", "29H33333", T0 + timedelta(seconds=90), "hn-exp-gate-1"),
                )

                # the overweight truck was sent to a lane, then held for review; the swapped
                # one too, unless the matcher, seeing both its reads at once, sent it to
                # review itself (a container it was not told of)
                def _review(r: list[Any]) -> dict[str, dict[str, Any]]:
                    return {
                        d["manifest_id"]: d
                        for d in decision_payloads(r)
                        if d["outcome"] == "needs_review"
                    }

                reviewed = _review(
                    await collect(
                        broker.bootstrap,
                        LANE_DECISIONS.name,
                        until=lambda r: set(_review(r)) >= {"MF-2", "MF-3"},
                    )
                )
                assert set(reviewed) == {"MF-2", "MF-3"}
                overweight = reviewed["MF-3"]
                assert (
                    overweight["revision"] == 1 and "risk alert overweight" in overweight["reason"]
                )
                held = {m: d for m, d in reviewed.items() if "risk alert" in d["reason"]}

                # MF-1 out (export), then its plate coming in (import) 20 min later: a clone
                await publish(
                    broker.bootstrap,
                    _read("c-1", "29H12345", T0 + timedelta(minutes=2), "hn-exp-approach-1"),
                    _read("c-2", "29H12345", T0 + timedelta(minutes=3), "hn-exp-gate-1"),
                    _read("c-3", "29H12345", T0 + timedelta(minutes=22), "hn-imp-approach-1"),
                    _read("c-4", "29H12345", T0 + timedelta(minutes=23), "hn-imp-gate-1"),
                )
                records = await collect(
                    broker.bootstrap,
                    ALERTS.name,
                    until=lambda r: (
                        {json.loads(x.value)["data"]["rule"] for x in r}
                        >= {"swap", "overweight", "cloned_plate"}
                    ),
                    timeout=30,
                )
                alerts = {json.loads(r.value)["data"]["rule"]: r for r in records}
                assert set(alerts) == {"swap", "overweight", "cloned_plate"}
                assert {r.key for r in records} == {b"huu-nghi"}
                swap = json.loads(alerts["swap"].value)["data"]
                assert swap["subject"] == "manifest:MF-2" and swap["hold"]
                assert OTHER in swap["explanation"] and "s-2" in swap["evidence"]
                clone = json.loads(alerts["cloned_plate"].value)["data"]
                assert clone["subject"] == "plate:29H12345"
                assert datetime.fromisoformat(clone["raised_at"]) == T0 + timedelta(minutes=22)
                async with infra.sessions() as session:
                    rows = await session.scalars(select(AlertRow).where(AlertRow.hold.is_(True)))
                    held_visits = {r.subject: r.held_visit_id for r in rows}
                assert held_visits == {
                    "manifest:MF-2": held["MF-2"]["visit_id"] if "MF-2" in held else None,
                    "manifest:MF-3": overweight["visit_id"],
                    "plate:29H12345": None,  # its second pass is in review already
                }

                # the same finding again is the same alert: one row per rule and subject
                await publish(
                    broker.bootstrap,
                    _read(
                        "s-3",
                        "29H22222",
                        T0 + timedelta(minutes=25),
                        "hn-exp-gate-1",
                        container_numbers=[OTHER],
                    ),
                )
                await wait_until(lambda: _read_count(infra, "s-3"), timeout=30)
                assert await _count(infra, AlertRow, rule="swap") == 1
                assert await _count(infra, AlertRow) == 3
                assert await _count(infra, AlertRow, status="open") == 3
            finally:
                stop.set()
                await asyncio.wait_for(weigh_task, timeout=20)


async def _read_count(infra, event_id: str) -> bool:  # type: ignore[no-untyped-def]
    from services.db.tables import PlateReadRow  # noqa: PLC0415

    return await _count(infra, PlateReadRow, event_id=event_id) == 1


async def test_a_burst_of_bookings_raises_an_alert_on_the_gates_clock(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    """20 bookings by one firm within a minute (booking events carry no API key: the firm
    stands for it) raise `booking_burst` once the gate's clock passes them."""
    from lanes.bookings import slot_of  # noqa: PLC0415
    from services.adapters.sql_bookings import SqlBookingStore  # noqa: PLC0415
    from services.service_layer import bookings as use_cases  # noqa: PLC0415

    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            infra = system.infra
            gate = infra.gates["huu-nghi"]
            assert gate.booking is not None
            plates = [f"29H{n:05d}" for n in range(20)]
            await seed(
                infra,
                *(manifest(f"MF-B{n}", p) for n, p in enumerate(plates)),
                now=T0 - timedelta(days=1),
            )
            slot, _ = slot_of(T0 + timedelta(hours=3), gate.booking, gate.utc_offset)
            for n in range(20):
                async with infra.sessions() as session, session.begin():
                    await use_cases.book(
                        SqlBookingStore(session),
                        firm_id="firm-01",
                        manifest_id=f"MF-B{n}",
                        gate=gate,
                        slot_start=slot,
                        now=T0 - timedelta(minutes=30) + timedelta(seconds=2 * n),
                    )
            await publish(
                broker.bootstrap,
                _read("b-1", "29H99999", T0, "hn-exp-gate-1"),
            )
            records = await collect(
                broker.bootstrap,
                ALERTS.name,
                until=lambda r: any(
                    json.loads(x.value)["data"]["rule"] == "booking_burst" for x in r
                ),
                timeout=30,
            )
            (burst,) = [
                d
                for d in (json.loads(r.value)["data"] for r in records)
                if d["rule"] == "booking_burst"
            ]
            assert burst["subject"] == "key:firm-firm-01" and not burst["hold"]
            assert len(burst["evidence"]) == 20
