"""The control room's HTTP side on a real system (embedded broker, workers, the API on a
TCP port), on SQLite and PostgreSQL: accounts and roles, CSRF, firms' keys shut out, the
domain rules on every action, each action on Kafka and in the audit log."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from lanes.model import CustomsStatus, Direction
from services.db.audit import verify_chain
from services.db.controllers import set_disabled
from services.db.firms import create_firm
from services.runtime.settings import DatabaseSettings
from streams.topics import CONTROLLER_ACTIONS, LANE_DECISIONS, LANE_EVENTS
from tests.browser.live import PASSWORD, add_controllers, free_port, served_api
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

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 at the gate


async def login(client: httpx.AsyncClient, username: str) -> str:
    r = await client.post("/control/api/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])


async def action(client: httpx.AsyncClient, csrf: str, **body: Any) -> httpx.Response:
    return await client.post("/control/api/actions", json=body, headers={"X-CSRF-Token": csrf})


async def test_roles_csrf_keys_rules_audit_and_kafka(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            infra = system.infra
            await add_controllers(infra)
            async with infra.sessions() as session, session.begin():
                key = (await create_firm(session=session, firm_id="lsl", name="LSL", now=T0)).key
            inspect = CustomsStatus.INSPECT
            plates = ["29H11111", "29H22222", "29H33333", "29H44444", "29H77777"]
            await seed(
                infra,
                *(manifest(f"MF-{n}", p, customs=inspect) for n, p in enumerate(plates)),
                manifest("MF-GREEN", "29H55555"),
                manifest("MF-IMPORT", "29H66666", direction=Direction.IMPORT),
                now=T0,
            )
            reads = [*plates, "29H55555", "29H6666"]
            await publish(
                broker.bootstrap,
                *(
                    (
                        "hn-exp-gate-1",
                        json.dumps(read(f"r-{n}", p, T0 + timedelta(seconds=n))).encode(),
                    )
                    for n, p in enumerate(reads)
                ),
            )
            first = decision_payloads(
                await collect(broker.bootstrap, LANE_DECISIONS.name, expect=7)
            )
            by_plate = {d["plate"]: d for d in first}
            waiting = sorted((by_plate[p] for p in plates), key=lambda d: d["expected_start_at"])
            queued, held = waiting[-1], waiting[-2]
            assert held["expected_start_at"] > T0.isoformat()  # two of five wait for a bay
            green = by_plate["29H55555"]
            review = by_plate["29H6666"]
            assert review["outcome"] == "needs_review"

            port = free_port()
            async with (
                served_api(infra, port),
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
            ):
                # a firm's API key opens nothing here; nor does no session
                bearer = {"Authorization": f"Bearer {key}"}
                r = await client.get("/control/api/state", headers=bearer)
                assert (r.status_code, r.json()["detail"]) == (401, "not logged in")
                # a refusal like every other: problem+json, its own type (issue 22 follow-up)
                assert r.headers["content-type"] == "application/problem+json"
                assert r.json()["type"] == "urn:borderflow:problem:not-logged-in"
                assert r.json()["title"] == "Unauthorized"
                r = await client.get("/control/api/alerts")
                assert r.status_code == 401
                assert r.headers["content-type"] == "application/problem+json"
                r = await client.post(
                    "/control/api/login", json={"username": "ana", "password": "nope"}
                )
                assert r.status_code == 401
                assert "bf_control" not in r.cookies

                # login: an HttpOnly, SameSite=Strict cookie; the CSRF token in the body
                r = await client.post(
                    "/control/api/login", json={"username": "vic", "password": PASSWORD}
                )
                cookie = r.headers["set-cookie"]
                assert "HttpOnly" in cookie and "SameSite=strict" in cookie
                assert "Path=/;" in cookie or cookie.rstrip().endswith("Path=/")
                viewer_csrf = r.json()["csrf_token"]
                # the client's own cookie jar, as a browser keeps it: the same session opens
                # the staff views under /v1 (it was set for /control only, so it was not sent)
                for path in ("/v1/queue", "/v1/review"):
                    assert (await client.get(path)).status_code == 200, path
                state = (await client.get("/control/api/state")).json()
                assert {lane["lane_id"] for lane in state["lanes"]} >= {"HN-E1", "HN-I1"}
                r = await action(
                    client, viewer_csrf, action="open_lane", lane_id="HN-E1", reason="x" * 5
                )
                assert (r.status_code, r.json()["detail"]) == (
                    403,
                    "role: vic is a viewer; only a controller can act",
                )

                # a body that does not validate: a problem naming the field, without the
                # input echoed back (found by a stranger's try)
                r = await client.post("/control/api/login", json={"username": "x" * 5000})
                assert r.status_code == 422, r.text
                assert r.headers["content-type"] == "application/problem+json"
                assert "password" in {e["field"] for e in r.json()["errors"]}
                assert "x" * 100 not in r.text

                csrf = await login(client, "ana")
                r = await client.post(
                    "/control/api/actions",
                    json={"action": "hold", "visit_id": green["visit_id"], "reason": "check"},
                )
                assert (r.status_code, r.json()["detail"]) == (
                    403,
                    "X-CSRF-Token: missing or wrong",
                )
                r = await action(
                    client, csrf, action="reassign", visit_id=green["visit_id"], reason="why"
                )
                assert r.status_code == 422
                assert "lane_id: required for reassign" in r.text
                # the field at fault, not `body` (as every 4xx names it)
                assert r.json()["errors"] == [
                    {"field": "lane_id", "message": "required for reassign"}
                ]
                # blanks are no reason (found by a stranger's try: audited as "")
                for blank in ("   ", "\n\t\n", "  a "):
                    r = await action(
                        client, csrf, action="hold", visit_id=green["visit_id"], reason=blank
                    )
                    assert r.status_code == 422, (blank, r.text)
                    assert r.json()["errors"][0]["field"] == "reason"
                    if not blank.strip():  # it read "String should have at least 3 characters"
                        assert r.json()["detail"] == "reason: must not be blank"

                # the domain's rules: no illegal lane, no truck that is not there
                refusals = [
                    (
                        dict(action="reassign", visit_id=queued["visit_id"], lane_id="HN-I9"),
                        409,
                        "lane_id: HN-I9 is an import lane; the truck is export",
                    ),
                    (
                        dict(action="reassign", visit_id=queued["visit_id"], lane_id="HN-E1"),
                        409,
                        "lane_id: HN-E1 does not take the red channel",
                    ),
                    (
                        dict(action="reassign", visit_id=queued["visit_id"], lane_id="HN-X"),
                        404,  # unknown, as an unknown visit (it was 409)
                        "lane_id: gate 'huu-nghi' has no lane 'HN-X'",
                    ),
                    (
                        dict(
                            action="pick_manifest",
                            visit_id=review["visit_id"],
                            manifest_id="MF-IMPORT",
                        ),
                        409,
                        "manifest_id: MF-IMPORT is for import; seen at an export camera",
                    ),
                    (
                        dict(
                            action="pick_manifest",
                            visit_id=review["visit_id"],
                            manifest_id="MF-NONE",
                        ),
                        404,
                        "manifest_id: no manifest 'MF-NONE'",
                    ),
                    (
                        dict(action="hold", visit_id="v-nobody"),
                        404,
                        "visit_id: no decided visit 'v-nobody' at gate 'huu-nghi'",
                    ),
                    (
                        dict(action="open_lane", lane_id="HN-E1"),
                        409,
                        "lane_id: HN-E1 is already open",
                    ),
                    (
                        dict(action="confirm_plate", visit_id=review["visit_id"], plate="29H99999"),
                        409,
                        "plate: no open export manifest for tractor 29H99999",
                    ),
                ]
                for body, status, detail in refusals:
                    r = await action(client, csrf, reason="testing the rules", **body)
                    assert (r.status_code, r.json()["detail"]) == (status, detail), body
                    field, message = detail.split(": ", 1)  # named in errors[] too
                    assert r.json()["errors"] == [{"field": field, "message": message}], body

                # actions that apply: each a revised decision in the live flow
                other = next(x for x in ("HN-E9", "HN-E10", "HN-E11") if x != queued["lane_id"])
                r = await action(
                    client,
                    csrf,
                    action="reassign",
                    visit_id=queued["visit_id"],
                    lane_id=other,
                    reason="bay crew short",
                )
                assert r.status_code == 200, r.text
                moved = r.json()["decision"]
                assert (moved["lane_id"], moved["revision"]) == (other, 1)
                assert moved["reason"].startswith(f"reassigned to {other} by ana (bay crew short)")
                r = await action(
                    client, csrf, action="hold", visit_id=held["visit_id"], reason="seal broken"
                )
                assert r.json()["decision"]["outcome"] == "needs_review"
                # its review item says who held it and why, as an alert's hold does (it
                # said only its match outcome, "matched")
                items = (await client.get("/v1/review")).json()["items"]
                item = next(it for it in items if it["visit_id"] == held["visit_id"])
                assert (item["match_outcome"], item["held_by"]) == ("matched", [])
                assert item["held_by_controller"] == {
                    "by": "ana",
                    "reason": "seal broken",
                    "audit_seq": r.json()["audit_seq"],
                }
                others = [it for it in items if it["visit_id"] != held["visit_id"]]
                assert others and all(it["held_by_controller"] is None for it in others)
                r = await action(
                    client,
                    csrf,
                    action="release",
                    visit_id=held["visit_id"],
                    reason="seal replaced",
                )
                assert r.json()["decision"]["outcome"] == "assigned"
                r = await action(
                    client, csrf, action="close_lane", lane_id=other, reason="power cut"
                )
                assert r.status_code == 200 and r.json()["lane_event_id"].startswith("ctl-")

                # the truck the machine could not match, refused entry: out of review
                r = await action(
                    client,
                    csrf,
                    action="turn_away",
                    visit_id=review["visit_id"],
                    reason="no declaration: sent to the parking",
                )
                assert r.status_code == 200, r.text
                refused = r.json()["decision"]
                assert (refused["outcome"], refused["lane_id"]) == ("refused", None)
                assert refused["reason"].startswith("turned away by ana (no declaration")
                listed = (await client.get("/v1/review")).json()
                assert review["visit_id"] not in json.dumps(listed)
                r = await action(
                    client, csrf, action="turn_away", visit_id=green["visit_id"], reason="no papers"
                )
                assert r.status_code == 409 and "is already assigned to" in r.json()["detail"]

                # every action on the topics, and the close re-plans through the orchestrator
                acts = await collect(broker.bootstrap, CONTROLLER_ACTIONS.name, expect=5)
                kinds = [json.loads(a.value)["data"]["action"] for a in acts]
                assert kinds == ["reassign", "hold", "release", "close_lane", "turn_away"]
                (event,) = await collect(broker.bootstrap, LANE_EVENTS.name, expect=1)
                assert json.loads(event.value)["data"]["actor"] == "ana"
                # timed by the gate's event time, the record too: call-forward skips an
                # event minutes ahead of its record's timestamp
                at = datetime.fromisoformat(json.loads(event.value)["data"]["at"])
                assert event.timestamp == int(at.timestamp() * 1000)

                # the re-plan may revise several trucks of the closed lane, in any order:
                # read until the queued truck's second revision is there
                def replanned(records: list[Any]) -> bool:
                    return any(
                        d["visit_id"] == queued["visit_id"] and d["revision"] == 2
                        for d in decision_payloads(records)
                    )

                decisions = decision_payloads(
                    await collect(broker.bootstrap, LANE_DECISIONS.name, expect=11, until=replanned)
                )
                latest = max(
                    (d for d in decisions if d["visit_id"] == queued["visit_id"]),
                    key=lambda d: d["revision"],
                )
                assert latest["revision"] == 2
                assert latest["reason"].startswith(f"re-planned: lane {other} closed")

                # password guessing is slowed: five failures for an account from one address,
                # then even the right password waits (429 with Retry-After)
                for _ in range(5):
                    r = await client.post(
                        "/control/api/login", json={"username": "vic", "password": "guess"}
                    )
                    assert r.status_code == 401
                r = await client.post(
                    "/control/api/login", json={"username": "VIC", "password": PASSWORD}
                )
                assert r.status_code == 429
                assert 890 <= int(r.headers["Retry-After"]) <= 900
                assert r.json()["detail"].startswith("username: too many failed logins")

                # a controller disabled mid-stream stops seeing the board within seconds
                # the server writes a line every 5 s (a keep-alive): httpx's default 5 s read
                # timeout would race it on a busy machine (it did, under a loaded CI run)
                slow = httpx.Timeout(10.0, read=60.0)
                async with client.stream("GET", "/control/api/stream", timeout=slow) as stream:
                    lines = stream.aiter_lines()
                    assert (await anext(lines)).startswith("retry:")
                    async with infra.sessions() as session, session.begin():
                        await set_disabled(session=session, username="ana", disabled=True)
                    disabled_at = time.monotonic()
                    async with asyncio.timeout(
                        90
                    ):  # checked every 5 s; generous for a busy machine
                        async for line in lines:
                            if line == "event: bye":
                                break
                    print(f"stream ended {time.monotonic() - disabled_at:.1f} s after disabling")
                    assert "session expired or logged out" in await anext(lines)
                async with infra.sessions() as session, session.begin():
                    await set_disabled(session=session, username="ana", disabled=False)

                # logging out ends the session on the server, not only in the browser
                token = client.cookies["bf_control"]
                assert (await client.post("/control/api/logout")).status_code == 204
                assert "bf_control" not in client.cookies  # the browser's copy is gone too
                client.cookies.set("bf_control", token, path="/")
                r = await client.get("/control/api/state")
                assert (r.status_code, r.json()["detail"]) == (
                    401,
                    "session expired or logged out",
                )

            async with infra.sessions() as session:
                verdict = await verify_chain(session=session)
            assert verdict.ok and verdict.entries == 5  # refusals are not actions
