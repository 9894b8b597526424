"""The orchestrator's lane events on the real broker and database (SQLite and PostgreSQL):
a closed lane re-plans the trucks queued on it (a revised decision each), and events that
are malformed or do not fit the board go to the dead-letter topic with the reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lanes.model import CustomsStatus
from services.runtime.settings import DatabaseSettings
from streams.topics import LANE_DECISIONS, LANE_EVENTS
from tests.integration.harness import (
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
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 at the gate (UTC+7)
INSPECTION = {"HN-E9", "HN-E10", "HN-E11"}


def lane_event(event_id: str, kind: str, at: datetime, **fields: str) -> bytes:
    body = {"event_id": event_id, "gate_id": "huu-nghi", "kind": kind, "at": at.isoformat()}
    return json.dumps(body | fields).encode()


async def test_a_closed_lane_re_plans_its_queue_and_bad_events_are_dead_lettered(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            plates = ["29H11111", "29H22222", "29H33333", "29H44444"]
            await seed(
                system.infra,
                *(
                    manifest(f"MF-{n}", p, customs=CustomsStatus.INSPECT)
                    for n, p in enumerate(plates)
                ),
                now=T0,
            )
            await publish(
                broker.bootstrap,
                *(
                    ("hn-exp-gate-1", json.dumps(read(f"r-{n}", p, T0)).encode())
                    for n, p in enumerate(plates)
                ),
            )
            first = decision_payloads(
                await collect(broker.bootstrap, LANE_DECISIONS.name, expect=4)
            )
            assert {d["lane_id"] for d in first} == INSPECTION  # three bays, one queue
            queued = max(first, key=lambda d: d["expected_start_at"])
            assert queued["expected_start_at"] > T0.isoformat()
            closed = queued["lane_id"]

            close_at = T0 + timedelta(minutes=1)
            # fits no board: dead-lettered as it came, like the events that do not decode
            nobody = lane_event("e-3", "truck_left", close_at, visit_id="v-nobody")
            await publish_to(
                broker.bootstrap,
                LANE_EVENTS.name,
                ("huu-nghi", lane_event("e-1", "lane_closed", close_at, lane_id=closed)),
                ("huu-nghi", lane_event("e-1", "lane_closed", close_at, lane_id=closed)),
                ("huu-nghi", b"{not json"),
                ("huu-nghi", lane_event("e-2", "lane_closed", close_at)),  # no lane_id
                ("huu-nghi", nobody),
            )
            records = await collect(broker.bootstrap, LANE_DECISIONS.name, expect=5)
            revised = [d for d in decision_payloads(records) if d["revision"] == 1]
            assert len(revised) == 1  # the duplicate event changed nothing
            (again,) = revised
            assert again["visit_id"] == queued["visit_id"]
            assert again["decision_id"] != queued["decision_id"]
            assert again["lane_id"] in INSPECTION - {closed}
            assert again["reason"].startswith(f"re-planned: lane {closed} closed")

            dead = await collect(broker.bootstrap, LANE_EVENTS.dlq.name, expect=3)
            reasons = sorted(dict(r.headers)["dlq.error"].decode() for r in dead)
            assert reasons[0].startswith("invalid JSON")
            assert reasons[1] == "lane_id: required for a lane_closed event"
            assert "v-nobody" in reasons[2]
            (rejected,) = [r for r in dead if b"v-nobody" in dict(r.headers)["dlq.error"]]
            headers = dict(rejected.headers)
            assert rejected.value == nobody  # byte for byte (it was re-serialised)
            assert headers["dlq.error.type"] == b"rejected"
            assert headers["dlq.source.topic"] == LANE_EVENTS.name.encode()
            assert {"dlq.source.partition", "dlq.source.offset"} <= set(headers)
