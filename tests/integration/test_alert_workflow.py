"""The controllers' alert workflow through the control room's API (issue 22), on a real
system (embedded broker, decider, the API on a TCP port), SQLite and PostgreSQL: the panel
in the snapshot, acknowledge / escalate / dismiss each in the audit hash chain and on
`borderflow.alerts`, and problem+json refusals (unknown alert, closed alert, the same status
again, a viewer, no reason)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from lanes.containers import check_digit
from services.bootstrap import Infrastructure
from services.db.alert_tables import AlertRow
from services.db.audit import verify_chain
from services.db.control_tables import AuditRow
from services.runtime.settings import DatabaseSettings
from streams.broker import EmbeddedBroker
from streams.topics import ALERTS, LANE_DECISIONS
from tests.browser.live import PASSWORD, add_controllers, free_port, served_api
from tests.integration.harness import (
    as_message,
    collect,
    decision_payloads,
    fresh_broker,
    make_settings,
    manifest,
    publish,
    read,
    running_system,
    seed,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
OTHER = f"TGHU876543{check_digit('TGHU876543')}"
PROBLEM = "application/problem+json"


async def login(client: httpx.AsyncClient, username: str) -> str:
    r = await client.post("/control/api/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])


async def act(
    client: httpx.AsyncClient, csrf: str, alert_id: str, action: str, reason: Any = "checked"
) -> httpx.Response:
    return await client.post(
        f"/control/api/alerts/{alert_id}/{action}",
        json={"reason": reason},
        headers={"X-CSRF-Token": csrf},
    )


@asynccontextmanager
async def _system(
    database_settings: DatabaseSettings, tmp_path: Path
) -> AsyncIterator[tuple[EmbeddedBroker, Infrastructure]]:
    """A running system with the controllers (`ana`, `vic`) and MF-2, which declares one
    container."""
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await add_controllers(system.infra)
            await seed(
                system.infra, manifest("MF-2", "29H22222", containers=("MSCU1234565",)), now=T0
            )
            yield broker, system.infra


async def test_acknowledge_escalate_dismiss_audited_and_refused_when_invalid(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    async with _system(database_settings, tmp_path) as (broker, infra):
        await publish(
            broker.bootstrap,
            as_message(read("s-1", "29H22222", T0)),
            as_message(
                read("s-2", "29H22222", T0 + timedelta(seconds=40)) | {"container_numbers": [OTHER]}
            ),
        )

        async def raised() -> bool:
            async with infra.sessions() as session:
                return (await session.scalars(select(AlertRow))).first() is not None

        await wait_until(raised, timeout=30)
        async with infra.sessions() as session:
            alert_id = (await session.scalars(select(AlertRow.alert_id))).one()

        port = free_port()
        async with (
            served_api(infra, port),
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
        ):
            viewer = await login(client, "vic")
            state = (await client.get("/control/api/state")).json()
            (shown,) = state["alerts"]
            assert (shown["alert_id"], shown["rule"], shown["severity"]) == (
                alert_id,
                "swap",
                "high",
            )
            assert shown["age_s"] == 0 and shown["evidence"] == ["s-1", "s-2"]
            listed = (await client.get("/control/api/alerts")).json()["items"]
            assert [a["alert_id"] for a in listed] == [alert_id]

            r = await act(client, viewer, alert_id, "acknowledge")
            assert r.status_code == 403 and r.headers["content-type"] == PROBLEM

            csrf = await login(client, "ana")
            r = await act(client, csrf, "al-nope", "acknowledge")
            assert (r.status_code, r.headers["content-type"]) == (404, PROBLEM)
            assert "alert_id" in r.json()["detail"]
            r = await act(client, csrf, alert_id, "acknowledge", reason="")
            assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM)
            assert "reason" in r.text
            r = await act(client, csrf, alert_id, "shelve")
            assert r.status_code in (404, 422) and r.headers["content-type"] == PROBLEM

            seqs = []
            for action, status in (
                ("acknowledge", "acknowledged"),
                ("escalate", "escalated"),
                ("dismiss", "dismissed"),
            ):
                r = await act(client, csrf, alert_id, action, reason=f"{action}: looked")
                assert r.status_code == 200, r.text
                assert r.json()["alert"]["status"] == status
                assert r.json()["alert"]["status_by"] == "ana"
                seqs.append(r.json()["audit_seq"])
                if action == "acknowledge":
                    again = await act(client, csrf, alert_id, "acknowledge")
                    assert (again.status_code, again.headers["content-type"]) == (
                        409,
                        PROBLEM,
                    )
            r = await act(client, csrf, alert_id, "acknowledge")
            assert r.status_code == 409 and "closed" in r.json()["detail"]
            assert (await client.get("/control/api/alerts")).json()["items"] == []

        async with infra.sessions() as session:
            verdict = await verify_chain(session=session)
            entries = list(await session.scalars(select(AuditRow).where(AuditRow.seq.in_(seqs))))
        assert verdict.ok and verdict.entries == 3
        assert [(e.action, e.actor, e.target) for e in entries] == [
            ("alert_acknowledge", "ana", alert_id),
            ("alert_escalate", "ana", alert_id),
            ("alert_dismiss", "ana", alert_id),
        ]
        assert entries[0].details["before"] == "open"
        records = await collect(broker.bootstrap, ALERTS.name, expect=4)
        changes = [json.loads(r.value)["data"] for r in records]
        assert [c["change"] for c in changes] == [
            "raised",
            "acknowledged",
            "escalated",
            "dismissed",
        ]
        assert [c["audit_seq"] for c in changes[1:]] == seqs


async def test_a_truck_held_by_an_alert_and_released_shows_released_by_whom_and_when(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    """A swap holds its truck (sent to a lane on its first read, held on its second); a
    controller releases it. The alert then says the truck was released, by whom, when (the
    gate's event time) and why, in the list, the snapshot and on `borderflow.alerts`; until
    2026-12-06 it kept saying "truck held" with nothing about the release."""
    async with _system(database_settings, tmp_path) as (broker, infra):
        # one read, its lane, then the other container (apart: the matcher, seeing both
        # at once, would send the truck to review itself, with no hold)
        await publish(broker.bootstrap, as_message(read("s-1", "29H22222", T0)))
        (first,) = decision_payloads(await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1))
        assert first["outcome"] == "assigned"
        await publish(
            broker.bootstrap,
            as_message(
                read("s-2", "29H22222", T0 + timedelta(seconds=40)) | {"container_numbers": [OTHER]}
            ),
        )

        async def held() -> bool:
            async with infra.sessions() as session:
                row = (await session.scalars(select(AlertRow))).first()
                return row is not None and row.held_visit_id is not None

        await wait_until(held, timeout=30)
        async with infra.sessions() as session:
            row = (await session.scalars(select(AlertRow))).one()
            alert_id, visit_id, explanation = row.alert_id, row.held_visit_id, row.explanation

        port = free_port()
        async with (
            served_api(infra, port),
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
        ):
            csrf = await login(client, "ana")
            (shown,) = (await client.get("/control/api/alerts")).json()["items"]
            assert shown["held_visit_id"] == visit_id and shown["released_by"] is None
            # the review item says it is held, by which alert and why: it said only its
            # match outcome, "matched" (a stranger's test)
            (item,) = (await client.get("/control/api/state")).json()["review"]
            assert (item["visit_id"], item["match_outcome"]) == (visit_id, "matched")
            assert item["held_by"] == [
                {"alert_id": alert_id, "rule": "swap", "reason": explanation}
            ]
            assert item["held_by_controller"] is None  # an alert held it, not a controller
            r = await client.post(
                "/control/api/actions",
                json={"action": "release", "visit_id": visit_id, "reason": "seal checked"},
                headers={"X-CSRF-Token": csrf},
            )
            assert r.status_code == 200, r.text
            assert r.json()["decision"]["outcome"] == "assigned"
            seq = r.json()["audit_seq"]

            (listed,) = (await client.get("/control/api/alerts")).json()["items"]
            (panel,) = (await client.get("/control/api/state")).json()["alerts"]
        for alert in (listed, panel):
            assert alert["status"] == "open"  # the workflow's status is the controllers'
            assert alert["held_visit_id"] == visit_id
            assert (alert["released_by"], alert["release_reason"]) == ("ana", "seal checked")
            # the gate's clock when released: the newest read's event time
            assert datetime.fromisoformat(alert["released_at"]) == T0 + timedelta(seconds=40)
        async with infra.sessions() as session:
            entry = (await session.scalars(select(AuditRow).where(AuditRow.seq == seq))).one()
        assert (entry.action, entry.details["released_alerts"]) == ("release", [alert_id])
        records = await collect(broker.bootstrap, ALERTS.name, expect=2)
        changes = [json.loads(r.value)["data"] for r in records]
        assert [c["change"] for c in changes] == ["raised", "released"]
        released = changes[1]
        assert (released["released_by"], released["changed_by"]) == ("ana", "ana")
        assert datetime.fromisoformat(released["released_at"]) == T0 + timedelta(seconds=40)
        assert (released["audit_seq"], released["status"]) == (seq, "open")
