"""Bookings in the live flow (real broker and database): a truck on time for its booked slot
is decided as such (priority) and its booking used, its check-in at the waiting area beside;
one more than the grace late loses the slot and is decided as a walk-in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lanes.bookings import BookingState
from services.adapters.sql_bookings import SqlBookingStore
from services.db.booking_tables import BookingRow
from services.runtime.settings import DatabaseSettings
from services.service_layer import bookings as use_cases
from streams.topics import LANE_DECISIONS
from tests.integration.harness import (
    collect,
    decision_payloads,
    fresh_broker,
    make_settings,
    manifest,
    publish,
    read,
    running_system,
    seed,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

SLOT = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00-11:00 at the gate (UTC+7)


async def _book(infra: Any, *manifest_ids: str) -> None:
    """Book each manifest into SLOT, a day ahead, for firm-01."""
    async with infra.sessions() as session, session.begin():
        for manifest_id in manifest_ids:
            await use_cases.book(
                SqlBookingStore(session),
                firm_id="firm-01",
                manifest_id=manifest_id,
                gate=infra.gates["huu-nghi"],
                slot_start=SLOT,
                now=SLOT - timedelta(days=1),
            )


async def _booking_id(session: Any, manifest_id: str) -> str:
    found: str = await session.scalar(
        select(BookingRow.booking_id).where(BookingRow.manifest_id == manifest_id)
    )
    return found


async def test_on_time_bookings_go_first_and_very_late_ones_are_walk_ins(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            infra = system.infra
            await seed(infra, manifest("MF-1", "29H11111"), manifest("MF-2", "29H22222"), now=SLOT)
            await _book(infra, "MF-1", "MF-2")
            # a check-in (issue 23) is a booking event the alert rules do not weigh: it must
            # not stop the decider (it did, for a day's look-back: "not a valid BookingKind")
            async with infra.sessions() as session, session.begin():
                await use_cases.check_in(
                    SqlBookingStore(session),
                    firm_id="firm-01",
                    booking_id=await _booking_id(session, "MF-1"),
                    gates=infra.gates,
                    now=SLOT + timedelta(minutes=10),
                )
            on_time = read("r-1", "29H11111", SLOT + timedelta(minutes=20))
            late = read("r-2", "29H22222", SLOT + timedelta(hours=2, minutes=30))
            await publish(
                broker.bootstrap,
                *(("hn-exp-gate-1", json.dumps(r).encode()) for r in (on_time, late)),
            )
            decisions = {
                d["manifest_id"]: d
                for d in decision_payloads(
                    await collect(broker.bootstrap, LANE_DECISIONS.name, expect=2)
                )
            }
            assert decisions["MF-1"]["outcome"] == "assigned"
            assert "on-time booking" in decisions["MF-1"]["reason"]
            assert "walk-in" in decisions["MF-2"]["reason"]
            async with infra.sessions() as session:
                states = dict(
                    (await session.execute(select(BookingRow.manifest_id, BookingRow.status))).all()
                )
            assert states == {"MF-1": BookingState.USED, "MF-2": BookingState.LOST_LATE}


async def test_no_shows_follow_the_gates_clock_not_the_servers(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    """A booking becomes a no-show when the gate's event time (its reads) passes the slot's
    end plus the grace, whatever the date on the servers: the slot here is long over by the
    wall clock, but not by the gate's clock until a read after it arrives."""
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            infra = system.infra
            await seed(
                infra,
                manifest("MF-1", "29H11111"),
                manifest("MF-2", "29H22222"),
                manifest("MF-3", "29H33333"),
                now=SLOT,
            )
            await _book(infra, "MF-1", "MF-3")

            async def states() -> dict[str, str]:
                async with infra.sessions() as session:
                    rows = await session.execute(select(BookingRow.manifest_id, BookingRow.status))
                    return {str(m): str(s) for m, s in rows.all()}

            on_time = read("r-1", "29H11111", SLOT + timedelta(minutes=20))
            await publish(broker.bootstrap, ("hn-exp-gate-1", json.dumps(on_time).encode()))
            await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1)
            assert await states() == {"MF-1": BookingState.USED, "MF-3": BookingState.ACTIVE}

            later = read("r-2", "29H22222", SLOT + timedelta(hours=3))  # past end + grace
            await publish(broker.bootstrap, ("hn-exp-gate-1", json.dumps(later).encode()))
            await collect(broker.bootstrap, LANE_DECISIONS.name, expect=2)
            assert await states() == {"MF-1": BookingState.USED, "MF-3": BookingState.NO_SHOW}
