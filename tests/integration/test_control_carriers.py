"""A controller takes an autonomous carrier out of service and puts it back from the control
room, as a lane is closed and opened: `POST /control/api/actions` with `carrier_out` /
`carrier_back` and a `carrier_id`, audited, a `carrier_out` / `carrier_back` lane event on
`borderflow.lane-events` with the actor, applied by the orchestrator (which re-plans the
carrier's trips), and refusals naming `carrier_id`. On a real system (embedded broker, the
workers, the API on a TCP port), SQLite and PostgreSQL. Until 2026-12-06 no control-room
action took a carrier out of service."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from services.db.control_tables import AuditRow
from services.runtime.settings import DatabaseSettings
from streams.topics import CONTROLLER_ACTIONS, LANE_EVENTS
from tests.browser.live import add_controllers, free_port, served_api
from tests.integration.harness import (
    as_message,
    collect,
    fresh_broker,
    make_settings,
    publish,
    read,
    running_system,
    wait_until,
)
from tests.integration.test_control_api import action, login

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 at the gate
PROBLEM = "application/problem+json"


async def test_a_carrier_taken_out_of_service_and_back_from_the_control_room(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await add_controllers(system.infra)
            await publish(broker.bootstrap, as_message(read("r-1", "29H12345", T0)))
            port = free_port()
            async with (
                served_api(system.infra, port),
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
            ):
                csrf = await login(client, "ana")

                async def carriers() -> dict[str, bool]:
                    snap = (await client.get("/control/api/state")).json()
                    return {
                        c["carrier_id"]: c["out_of_service"] for c in snap["carriers"]["carriers"]
                    }

                async def boarded() -> bool:  # the gate's board, saved with its first read
                    return bool(await carriers())

                await wait_until(boarded, timeout=30)
                fleet = await carriers()
                carrier = sorted(fleet)[0]
                assert fleet[carrier] is False

                r = await action(
                    client, csrf, action="carrier_out", carrier_id=carrier, reason="lidar fault"
                )
                assert r.status_code == 200, r.text
                assert r.json()["lane_event_id"].startswith("ctl-")
                assert r.json()["decision"] is None
                out_seq = r.json()["audit_seq"]
                # a second one before the orchestrator applied it, then after: both refused
                again = await action(
                    client, csrf, action="carrier_out", carrier_id=carrier, reason="again"
                )
                assert (again.status_code, again.headers["content-type"]) == (409, PROBLEM)
                assert again.json()["errors"][0]["field"] == "carrier_id"
                # (waiting for the orchestrator, or applied already: tests/unit/test_gate_handlers)
                assert again.json()["detail"] in (
                    f"carrier_id: {carrier} is already being taken out of service by ana "
                    "(lidar fault)",
                    f"carrier_id: {carrier} is already out of service",
                )

                async def out() -> bool:
                    return (await carriers())[carrier]

                await wait_until(out, timeout=30)
                again = await action(
                    client, csrf, action="carrier_out", carrier_id=carrier, reason="again"
                )
                assert again.status_code == 409, again.text
                assert again.json()["detail"] == f"carrier_id: {carrier} is already out of service"

                for body, status in (
                    ({"carrier_id": "AC-NOPE"}, 404),
                    ({}, 422),
                    ({"carrier_id": ""}, 422),
                ):
                    refused = await action(
                        client, csrf, action="carrier_out", reason="x" * 5, **body
                    )
                    assert (refused.status_code, refused.headers["content-type"]) == (
                        status,
                        PROBLEM,
                    ), body
                    assert "carrier_id" in json.dumps(refused.json()), refused.text

                r = await action(
                    client, csrf, action="carrier_back", carrier_id=carrier, reason="fixed"
                )
                assert r.status_code == 200, r.text

                async def back() -> bool:
                    return not (await carriers())[carrier]

                await wait_until(back, timeout=30)

            events = await collect(broker.bootstrap, LANE_EVENTS.name, expect=2)
            sent = [json.loads(e.value)["data"] for e in events]
            assert [(e["kind"], e["carrier_id"], e["actor"]) for e in sent] == [
                ("carrier_out", carrier, "ana"),
                ("carrier_back", carrier, "ana"),
            ]
            assert sent[0]["reason"] == "lidar fault"
            acts = await collect(broker.bootstrap, CONTROLLER_ACTIONS.name, expect=2)
            records = [json.loads(a.value)["data"] for a in acts]
            assert [(a["action"], a["carrier_id"]) for a in records] == [
                ("carrier_out", carrier),
                ("carrier_back", carrier),
            ]
            async with system.infra.sessions() as session:
                entry = (
                    await session.scalars(select(AuditRow).where(AuditRow.seq == out_seq))
                ).one()
            assert (entry.action, entry.target, entry.actor) == ("carrier_out", carrier, "ana")
            assert entry.details["carrier_id"] == carrier
