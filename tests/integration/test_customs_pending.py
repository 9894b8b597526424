"""A manifest turned back to customs `pending` after its truck was decided revises the
truck's decision, as the rules do for a truck arriving on a pending manifest: an alert that
holds it (`customs_pending`, lanes/alerts/cargo.py), its decision back to review as a new
revision on `borderflow.lane-decisions`. On a real system (embedded broker, the decider, the
manifest intake), SQLite and PostgreSQL; the manifests come as a stranger's bare JSON on
`borderflow.manifests`. Until 2026-12-06 the truck kept its lane."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.bootstrap import Infrastructure, build_manifest_intake
from services.db.manifests import event_clock
from services.db.tables import ManifestRow
from services.runtime.settings import DatabaseSettings
from streams.topics import ALERTS, LANE_DECISIONS, MANIFESTS
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
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 at the gate, in MF-P's window


def _form(status: str) -> tuple[str, bytes]:
    return "MF-P", json.dumps(manifest_form("MF-P", customs_status=status)).encode()


async def test_a_truck_whose_manifest_turns_pending_after_its_decision_goes_back_to_review(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    # the servers' clock is left alone: a manifest version counts for the rules from the
    # events' clock when it was stored (until 2026-12-06 from the wall clock, which this
    # test had to set to the reads' day)
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            _, intake = build_manifest_intake(system.infra)
            stop = asyncio.Event()
            task = asyncio.create_task(intake.run(stop))
            try:
                await asyncio.wait_for(intake.ready.wait(), timeout=20)
                await publish_to(broker.bootstrap, MANIFESTS.name, _form("cleared"))
                await _stored(system.infra, version=1)
                # two reads: a pass the rules count (one stray read is not a truck)
                await publish(
                    broker.bootstrap,
                    as_message(read("p-1", "29H12345", T0)),
                    as_message(read("p-2", "29H12345", T0 + timedelta(seconds=30))),
                )
                (first,) = decision_payloads(
                    await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1)
                )
                assert (first["manifest_id"], first["outcome"]) == ("MF-P", "assigned")

                # customs takes the clearance back, once both reads are decided
                await _clock_reaches(system.infra, T0 + timedelta(seconds=30))
                await publish_to(broker.bootstrap, MANIFESTS.name, _form("pending"))
                await _stored(system.infra, version=2)
                # the gate's next read (another truck) judges the gate at its clock
                await publish(
                    broker.bootstrap,
                    as_message(read("q-1", "51C99999", T0 + timedelta(seconds=90))),
                )

                def revised(records: list[Any]) -> bool:
                    return any(d["revision"] == 1 for d in decision_payloads(records))

                decisions = decision_payloads(
                    await collect(broker.bootstrap, LANE_DECISIONS.name, until=revised)
                )

                def raised(records: list[Any]) -> bool:
                    return any(
                        json.loads(r.value)["data"]["rule"] == "customs_pending" for r in records
                    )

                alerts = [
                    json.loads(r.value)["data"]
                    for r in await collect(broker.bootstrap, ALERTS.name, until=raised)
                ]
            finally:
                stop.set()
                await asyncio.wait_for(task, timeout=20)
    (revision,) = [d for d in decisions if d["revision"] == 1]
    assert (revision["visit_id"], revision["manifest_id"]) == (first["visit_id"], "MF-P")
    assert revision["outcome"] == "needs_review"
    assert "customs_pending" in revision["reason"]
    (alert,) = [a for a in alerts if a["rule"] == "customs_pending"]
    assert (alert["subject"], alert["hold"]) == ("manifest:MF-P", True)
    assert alert["held_visit_id"] == first["visit_id"]
    # at the events' clock when pending was filed: the newest read decided then
    assert datetime.fromisoformat(alert["raised_at"]) == T0 + timedelta(seconds=30)


async def _clock_reaches(infra: Infrastructure, at: datetime) -> None:
    async def there() -> bool:
        async with infra.sessions() as session:
            return await event_clock(session) == at

    await wait_until(there, timeout=30)


async def _stored(infra: Infrastructure, *, version: int) -> None:
    async def there() -> bool:
        async with infra.sessions() as session:
            row = await session.get(ManifestRow, "MF-P")
            return row is not None and row.version >= version

    await wait_until(there, timeout=30)
