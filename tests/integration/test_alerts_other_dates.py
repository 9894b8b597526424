"""The manifest rules of the risk alerts (overweight, customs_pending, late_amendment) on a
day that is not today, as a client meets them: the manifests filed as a firm's system files
them (bare JSON on `borderflow.manifests`, stored whenever the test runs), the reads and the
weighing dated on a fixed day in the past, and the servers' clock left alone.

Until 2026-12-06 a manifest version counted for the rules from its wall-clock `recorded_at`,
compared with the reads' event time: a manifest filed today was "not yet received" for a
truck read on any earlier day, and every one of these rules stayed silent (the tests that
covered them seeded the manifests with a `now` of their own, or set the servers' clock).
A version now counts from the system's event-time clock when it was stored (the newest read
decided by then; before any read, from the start: docs/alerts.md)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.bootstrap import Infrastructure, build_manifest_intake, build_weighing_intake
from services.db.alert_tables import WeighingRow
from services.db.manifests import event_clock
from services.db.tables import ManifestRow
from services.runtime.settings import DatabaseSettings
from streams.topics import ALERTS, LANE_DECISIONS, MANIFESTS, WEIGH_IN_MOTION
from tests.integration.harness import (
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

# a fixed day in the past (10:00 at the gate), as a recorded or test day is; not today
T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def _alerts(records: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(r.value)["data"] for r in records]


def _raised(rule: str) -> Any:
    return lambda records: any(a["rule"] == rule for a in _alerts(records))


async def _version(infra: Infrastructure, manifest_id: str, version: int) -> None:
    async def there() -> bool:
        async with infra.sessions() as session:
            row = await session.get(ManifestRow, manifest_id)
            return row is not None and row.version >= version

    await wait_until(there, timeout=30)


async def test_manifest_rules_raise_on_a_past_day_with_manifests_filed_now(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    heavy = manifest_form(
        "MF-W",
        tractor_plate="29H33333",
        trailer_plate=None,
        containers=[],
        cargo={"description": "granite", "hs_codes": ["2516.12"], "gross_weight_kg": 30000},
        perishable=False,
    )
    pending = manifest_form("MF-P", tractor_plate="29H12345")
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            infra = system.infra
            _, manifests = build_manifest_intake(infra)
            _, weighings = build_weighing_intake(infra)
            stop = asyncio.Event()
            tasks = [asyncio.create_task(w.run(stop)) for w in (manifests, weighings)]
            try:
                await asyncio.wait_for(manifests.ready.wait(), timeout=20)
                await asyncio.wait_for(weighings.ready.wait(), timeout=20)
                await publish_to(
                    broker.bootstrap,
                    MANIFESTS.name,
                    ("MF-W", json.dumps(heavy).encode()),
                    ("MF-P", json.dumps(pending).encode()),
                )
                await _version(infra, "MF-W", 1)
                await _version(infra, "MF-P", 1)
                # MF-W weighed 44 t against the 30 t declared
                weighing = weighing_form(T0, "29H33333", 44_000)
                await publish_to(
                    broker.bootstrap, WEIGH_IN_MOTION.name, ("wim-1", json.dumps(weighing).encode())
                )

                # stored before the reads come: the rules judge it at the gate's next batch
                async def weighed() -> bool:
                    async with infra.sessions() as session:
                        return await session.get(WeighingRow, "w-1") is not None

                await wait_until(weighed, timeout=30)
                await publish(
                    broker.bootstrap,
                    as_message(read("w-a", "29H33333", T0 + timedelta(seconds=30))),
                    as_message(read("w-b", "29H33333", T0 + timedelta(seconds=60))),
                    as_message(read("p-1", "29H12345", T0 + timedelta(seconds=90))),
                    as_message(read("p-2", "29H12345", T0 + timedelta(seconds=120))),
                )
                decided = decision_payloads(
                    await collect(
                        broker.bootstrap,
                        LANE_DECISIONS.name,
                        until=lambda r: (
                            {"MF-W", "MF-P"} <= {d["manifest_id"] for d in decision_payloads(r)}
                        ),
                    )
                )
                assert {"MF-W", "MF-P"} <= {d["manifest_id"] for d in decided}, decided
                overweight = _alerts(
                    await collect(
                        broker.bootstrap, ALERTS.name, until=_raised("overweight"), timeout=30
                    )
                )
                assert [a["subject"] for a in overweight if a["rule"] == "overweight"] == [
                    "manifest:MF-W"
                ], overweight

                # customs takes MF-P's clearance back after its truck was decided (both its
                # reads); the gate's next read (another truck) judges the gate at its clock
                async def decided_all() -> bool:
                    async with infra.sessions() as session:
                        return await event_clock(session) == T0 + timedelta(seconds=120)

                await wait_until(decided_all, timeout=30)
                await publish_to(
                    broker.bootstrap,
                    MANIFESTS.name,
                    ("MF-P", json.dumps(pending | {"customs_status": "pending"}).encode()),
                )
                await _version(infra, "MF-P", 2)
                await publish(
                    broker.bootstrap,
                    as_message(read("q-1", "51C99999", T0 + timedelta(seconds=150))),
                )
                alerts = _alerts(
                    await collect(
                        broker.bootstrap, ALERTS.name, until=_raised("customs_pending"), timeout=30
                    )
                )
            finally:
                stop.set()
                await asyncio.wait_for(asyncio.gather(*tasks), timeout=20)
            async with infra.sessions() as session:
                stored = (await session.scalars(select(ManifestRow.manifest_id))).all()
    assert sorted(stored) == ["MF-P", "MF-W"]
    (alert,) = [a for a in alerts if a["rule"] == "customs_pending"]
    assert alert["subject"] == "manifest:MF-P" and alert["hold"] is True
    # raised on the gate's clock: the newest read decided when pending was filed, not today
    assert datetime.fromisoformat(alert["raised_at"]) == T0 + timedelta(seconds=120)
