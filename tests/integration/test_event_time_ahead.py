"""Two days that are not today, sent to one running system, as a stranger's client meets
them (bare JSON through the broker, the servers' clock left alone): defects found on
2026-12-06 and fixed the same day (docs/lanes-and-carriers.md, docs/alerts.md).

1. A lane event dated ahead of the gate's clock takes effect at once. The lane-event worker
   settles the board to the event's `at` and applies it
   (services/service_layer/lane_events.py `_apply_batch`), whatever the reads say the time
   is: a `lane_closed` stamped a year ahead (a gateway whose clock is off, or a later day's
   events sent before an earlier day's reads) shuts the lane for the trucks read today, and
   settling the board a year on moves every queued truck through its lane. The replay of
   that range then decides the truck on the open lane (1 exact difference). Fixed: an
   event more than an hour ahead of the gate's newest read is held, and applied by the
   decider when its reads reach it.
2. A manifest filed while the gate's clock is ahead of its truck counted as received after
   the truck. `manifest_versions.clock_at` is the newest read decided at any gate
   (services/db/manifests.py `event_clock`, ae37aac); a day sent after a later one (a
   recorded day sent again, or the days of a test out of order) had every manifest filed
   for it stamped at the later day's clock, and its reads judged at the later day's time,
   so the rules that ask what a manifest said when its truck came (overweight, swap,
   containers unread, late amendment, customs pending) stayed silent for that day. Fixed:
   `lanes.alerts.model.stored_at_clock`, and the alert step judges such a batch at its own
   times.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.bootstrap import build_manifest_intake, build_weighing_intake
from services.db.alert_tables import WeighingRow
from services.db.board_tables import LaneEventRow
from services.db.manifests import event_clock
from services.db.tables import ManifestRow
from services.runtime.settings import DatabaseSettings
from streams.topics import ALERTS, LANE_DECISIONS, LANE_EVENTS, MANIFESTS, WEIGH_IN_MOTION
from tests.integration.harness import (
    Running,
    as_message,
    collect,
    decision_payloads,
    fresh_broker,
    make_settings,
    manifest_form,
    publish,
    publish_to,
    read,
    running_system,
    wait_until,
    weighing_form,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

# a fixed day (10:00 at the gate), as a recorded or test day is; not today
T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> DatabaseSettings:
    """SQLite: the defects are about clocks, not databases."""
    return DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}")


def _plain(manifest_id: str, plate: str, **fields: Any) -> dict[str, Any]:
    """A cleared export manifest of general cargo, no trailer or containers (bare JSON)."""
    return (
        manifest_form(
            manifest_id,
            tractor_plate=plate,
            trailer_plate=None,
            containers=[],
            cargo={"description": "furniture", "hs_codes": ["9403.60"], "gross_weight_kg": 12000},
            perishable=False,
        )
        | fields
    )


async def _stored(system: Running, row: type[Any], key: str) -> None:
    """Wait until the worker that takes it has stored the row of `key` (its commit)."""

    async def there() -> bool:
        async with system.infra.sessions() as session:
            return await session.get(row, key) is not None

    await wait_until(there, timeout=30)


async def _decided(bootstrap: str, manifest_id: str) -> dict[str, Any]:
    decided = decision_payloads(
        await collect(
            bootstrap,
            LANE_DECISIONS.name,
            until=lambda r: manifest_id in {d["manifest_id"] for d in decision_payloads(r)},
            timeout=30,
        )
    )
    (first,) = [d for d in decided if d["manifest_id"] == manifest_id and d["revision"] == 0]
    return first


async def test_a_lane_closed_a_year_ahead_is_still_open_for_a_truck_read_today(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    """On SQLite and PostgreSQL (the held events' partial index and query differ)."""
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            _, manifests = build_manifest_intake(system.infra)
            stop = asyncio.Event()
            task = asyncio.create_task(manifests.run(stop))
            try:
                await asyncio.wait_for(manifests.ready.wait(), timeout=20)
                # the gate is at work: a truck with no manifest read an hour before (with
                # no read at all there is no clock to be ahead of: an event is applied)
                await publish(broker.bootstrap, as_message(read("r-0", "51C00000", T0 - HOUR)))

                async def clock_set() -> bool:
                    return system.decider.stats.reads >= 1

                await wait_until(clock_set, timeout=30)
                # the gateway's clock is a year ahead: HN-E1 closed "on 2027-11-23"
                closure = {
                    "event_id": "le-ahead",
                    "gate_id": "huu-nghi",
                    "kind": "lane_closed",
                    "at": (T0 + timedelta(days=365)).isoformat(),
                    "lane_id": "HN-E1",
                    "reason": "maintenance",
                    "actor": "gateway",
                }
                await publish_to(
                    broker.bootstrap, LANE_EVENTS.name, ("huu-nghi", json.dumps(closure).encode())
                )
                await _stored(system, LaneEventRow, "le-ahead")  # taken (and held)
                await publish_to(
                    broker.bootstrap,
                    MANIFESTS.name,
                    ("MF-1", json.dumps(_plain("MF-1", "29H44444")).encode()),
                )
                await _stored(system, ManifestRow, "MF-1")
                await publish(
                    broker.bootstrap,
                    as_message(read("r-1", "29H44444", T0)),
                    as_message(read("r-2", "29H44444", T0, camera="hn-exp-gate-2")),
                )
                decision = await _decided(broker.bootstrap, "MF-1")
            finally:
                stop.set()
                await asyncio.wait_for(task, timeout=20)
    # every export standard lane is free at T0 and HN-E1 comes first (the replay of T0's
    # range, without the closure of a year later, assigns HN-E1); the live run said HN-E2
    # until the closure was held (services/service_layer/lane_events.py)
    assert decision["outcome"] == "assigned", decision
    assert decision["lane_id"] == "HN-E1", decision["reason"]


async def test_overweight_is_raised_on_a_day_sent_after_a_later_day(
    sqlite_db: DatabaseSettings, tmp_path: Path
) -> None:
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, sqlite_db, tmp_path)
        async with running_system(settings) as system:
            infra = system.infra
            _, manifests = build_manifest_intake(infra)
            _, weighings = build_weighing_intake(infra)
            stop = asyncio.Event()
            tasks = [asyncio.create_task(w.run(stop)) for w in (manifests, weighings)]
            try:
                await asyncio.wait_for(manifests.ready.wait(), timeout=20)
                await asyncio.wait_for(weighings.ready.wait(), timeout=20)
                # the later day first: one truck read on T0 + 1 day
                later = T0 + timedelta(days=1)
                await publish(broker.bootstrap, as_message(read("d2-1", "51C99999", later)))

                async def clock_at_later_day() -> bool:
                    async with infra.sessions() as session:
                        return await event_clock(session) == later

                await wait_until(clock_at_later_day, timeout=30)
                # then T0's day: its manifest (12 t declared), the truck weighed at 44 t, read
                await publish_to(
                    broker.bootstrap,
                    MANIFESTS.name,
                    ("MF-W", json.dumps(_plain("MF-W", "29H33333")).encode()),
                )
                await _stored(system, ManifestRow, "MF-W")
                weighing = weighing_form(T0, "29H33333", 44_000)
                await publish_to(
                    broker.bootstrap, WEIGH_IN_MOTION.name, ("wim-1", json.dumps(weighing).encode())
                )
                await _stored(system, WeighingRow, "w-1")
                await publish(
                    broker.bootstrap,
                    as_message(read("w-a", "29H33333", T0 + timedelta(seconds=30))),
                    as_message(read("w-b", "29H33333", T0 + timedelta(seconds=60))),
                )
                await _decided(broker.bootstrap, "MF-W")  # the alert step ran with it
                alerts = [
                    json.loads(r.value)["data"]
                    for r in await collect(
                        broker.bootstrap,
                        ALERTS.name,
                        until=lambda rs: any(b"overweight" in r.value for r in rs),
                        timeout=10,
                    )
                ]
            finally:
                stop.set()
                await asyncio.wait_for(asyncio.gather(*tasks), timeout=20)
    assert [a["subject"] for a in alerts if a["rule"] == "overweight"] == ["manifest:MF-W"]


async def test_a_held_lane_event_the_board_refuses_when_its_time_comes_is_dead_lettered(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    """A lane event held (dated ahead of the reads) and refused by the board when the reads
    reach it (a truck that left but is in no lane, bay or queue) was logged and forgotten
    (listed in the twenty-first closing note): nothing in `borderflow.lane-events.dlq`, as
    there is for one refused when it comes. It is now dead-lettered with the board's reason
    (by the lane-event worker, which owns that topic's dead letters), and its row is gone,
    so a redrive of the dead letter is applied then, not taken as seen."""
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await publish(broker.bootstrap, as_message(read("r-0", "51C00000", T0)))

            async def clock_set() -> bool:
                return system.decider.stats.reads >= 1

            await wait_until(clock_set, timeout=30)
            left = {
                "event_id": "le-left",
                "gate_id": "huu-nghi",
                "kind": "truck_left",
                "at": (T0 + 2 * HOUR).isoformat(),
                "visit_id": "v-nowhere",
                "actor": "gateway",
            }
            await publish_to(
                broker.bootstrap, LANE_EVENTS.name, ("huu-nghi", json.dumps(left).encode())
            )
            await _stored(system, LaneEventRow, "le-left")  # taken, and held
            # the reads reach its time: the decider applies it, the board refuses it
            await publish(broker.bootstrap, as_message(read("r-1", "51C00001", T0 + 2 * HOUR)))
            dead = await collect(
                broker.bootstrap,
                LANE_EVENTS.dlq.name,
                until=lambda records: any(b"le-left" in r.value for r in records),
                timeout=30,
            )

            async def forgotten() -> bool:
                async with system.infra.sessions() as session:
                    return await session.get(LaneEventRow, "le-left") is None

            await wait_until(forgotten, timeout=30)
    (letter,) = [r for r in dead if b"le-left" in r.value]
    assert json.loads(letter.value)["visit_id"] == "v-nowhere"
    assert letter.key == b"huu-nghi"
    headers = {k: v.decode() for k, v in letter.headers}
    assert "in no lane, bay or queue" in headers["dlq.error"]
    assert "held" in headers["dlq.error"]
    assert headers["dlq.source.topic"] == LANE_EVENTS.name
