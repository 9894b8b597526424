"""Both sides of one gate, each with its own broker and database (Vietnam on SQLite, China
on PostgreSQL), their link workers, and a small day of crossings in both directions (issue
21): every exit becomes an entry on the other side or an overdue alert on both; a cut link
(the other side's broker stopped, then back) loses nothing and applies nothing twice; a
tampered, an unsigned, a replayed message and one signed with an unknown key are refused
with their reasons."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from lanes.crossings import AlertKind, Corridor, Side, reconcile
from services.api.app import ApiContext, create_app
from services.control.auth import COOKIE
from services.db.audit import entries
from services.db.controllers import create_controller, open_session
from services.gates.loader import configured_gates
from services.runtime.settings import DatabaseSettings
from services.xborder.config import inbound_topic
from services.xborder.corridor import side_gates_dir
from services.xborder.tables import XborderInboxRow, XborderOutboxRow
from streams.xborder_local import LocalCrossingEventV1
from streams.xborder_sign import SigningKey, TrustedKeys
from tests.conftest import POSTGRES_URL, _create_schema, _drop_schema
from tests.integration.harness import staff_cookies
from tests.integration.xborder_harness import (
    DAY,
    GateSide,
    arrivals,
    dead_letters,
    departures,
    eventually,
    fast_kafka,
    gate_side,
    restart_broker,
)

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]

N = 24  # trucks each way
FIRST = 14  # sent before the link is cut, the rest while it is down
SKIP = {3, 17}  # never enter the other side
OTHER_TRAILER = {5}  # enter with another trailer
CORRIDOR = Corridor(expected_transit=timedelta(minutes=30), margin=timedelta(minutes=30))


@pytest_asyncio.fixture
async def sides(tmp_path: Path) -> AsyncIterator[tuple[GateSide, GateSide]]:
    schema = f"bf_test_{uuid.uuid4().hex[:12]}"
    await _create_schema(schema)
    vn_db = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'vn.db'}")
    cn_db = DatabaseSettings(url=POSTGRES_URL, schema_name=schema)
    try:
        async with (
            gate_side(Side.VN, vn_db, tmp_path) as vn,
            gate_side(Side.CN, cn_db, tmp_path) as cn,
        ):
            await vn.start_link(cn)
            await cn.start_link(vn)
            yield vn, cn
    finally:
        await _drop_schema(schema)


async def _send(side: GateSide, events: list[LocalCrossingEventV1]) -> None:
    """Publish this side's local events and wait until its link took them all."""
    await side.publish(events)
    await eventually(lambda: side.taken(events), what=f"{side.side} taking {len(events)} events")


async def _caught_up(sender: GateSide, receiver: GateSide) -> bool:
    """Everything `sender` stored was sent and applied by `receiver` (ack or not)."""
    state = await sender.state()
    received = await receiver.state()
    return state.pending == 0 and received.last_received == state.last_sent


async def _exchange_settled(vn: GateSide, cn: GateSide) -> bool:
    return await _caught_up(vn, cn) and await _caught_up(cn, vn)


async def test_a_day_across_a_cut_link(sides: tuple[GateSide, GateSide]) -> None:
    vn, cn = sides
    start = DAY + timedelta(hours=8)
    vn_out, cn_out = departures(Side.VN, N, start=start), departures(Side.CN, N, start=start)
    await _send(vn, vn_out[: 2 * FIRST])
    await _send(cn, cn_out[: 2 * FIRST])
    await eventually(lambda: _exchange_settled(vn, cn), what="the first half exchanged")

    # The link is cut: the Chinese broker stops. Vietnam keeps clearing trucks.
    await cn.stop_link()
    await cn.broker.stop()
    await vn.publish(vn_out[2 * FIRST :])
    assert vn.link is not None

    async def vn_stores_and_fails() -> bool:
        assert vn.link is not None
        state = await vn.state()
        return state.pending >= 2 * (N - FIRST) and vn.link.stats["send_failures"] >= 1

    await eventually(vn_stores_and_fails, what="VN storing while CN is down")
    # ... and the link comes back (the embedded broker restarts empty: see docs/exchange.md)
    await restart_broker(cn)
    await cn.start_link(vn)
    await _send(cn, cn_out[2 * FIRST :])
    await eventually(lambda: _exchange_settled(vn, cn), what="the rest exchanged after the cut")

    # The trucks arrive on the other side, matched by plate; two never do, one swapped trailer.
    await _send(cn, arrivals(Side.CN, N, start=start, skip=SKIP, other_trailer=OTHER_TRAILER))
    await _send(vn, arrivals(Side.VN, N, start=start, skip=SKIP, other_trailer=OTHER_TRAILER))
    await eventually(lambda: _exchange_settled(vn, cn), what="the entries exchanged")

    # Nothing lost, nothing applied twice: each side applied every message the other stored,
    # once (inbox rows are unique by message id and by sender sequence), and acked them.
    # Waited for as a whole: a message stored just after the exchange looked settled (an
    # ack's resend, a late entry) is in flight a moment, and counting the two sides one
    # after the other then saw 160 of 182 under load (2026-12-06).
    async def all_applied_once_and_acked() -> bool:
        for sender, receiver in ((vn, cn), (cn, vn)):
            state = await sender.state()
            counts = (await sender.outbox_count(), await receiver.inbox_count())
            if counts != (state.last_sent, state.last_sent) or state.unacked:
                return False
        return True

    await eventually(all_applied_once_and_acked, what="every message applied once and acked")
    for sender, receiver in ((vn, cn), (cn, vn)):
        sent = (await sender.state()).last_sent
        assert await sender.outbox_count() == sent
        assert await receiver.inbox_count() == sent
        assert (await sender.state()).unacked == 0
        assert receiver.link is not None and receiver.link.stats["refused_replayed"] == 0

    # Every exit is an entry on the other side or an overdue alert, on both sides.
    now = DAY + timedelta(hours=23)
    for here in (vn, cn):
        crossings = await here.crossings()
        assert len(crossings) == 2 * N
        alerts = reconcile(crossings, now=now, corridor=CORRIDOR)
        overdue = {a.crossing_id for a in alerts if a.kind is AlertKind.OVERDUE}
        mismatched = {a.crossing_id for a in alerts if a.kind is AlertKind.MISMATCH}
        assert overdue == {f"{s.value}-x{i:04d}" for s in Side for i in SKIP}
        assert mismatched == {f"{s.value}-x{i:04d}" for s in Side for i in OTHER_TRAILER}
        for crossing in crossings:
            assert crossing.exit is not None and crossing.notice is not None
            assert (crossing.entry is not None) != (crossing.crossing_id in overdue)

    await _control_rooms(vn, cn)
    await _refusals(vn, cn)


async def _control_rooms(vn: GateSide, cn: GateSide) -> None:
    """Each side's control room API shows the other side's state and the same alerts."""
    seen = {}
    for here, gate_id in ((vn, "huu-nghi"), (cn, "youyiguan")):
        context = ApiContext(
            sessions=here.sessions,
            kafka=fast_kafka(here.bootstrap),
            bootstrap=here.bootstrap,
            gates=configured_gates(side_gates_dir(here.side)),
            default_gate=gate_id,
        )
        transport = httpx.ASGITransport(app=create_app(context))
        async with httpx.AsyncClient(transport=transport, base_url="http://bf.test") as client:
            anonymous = await client.get("/v1/xborder/state")
            client.cookies.update(await staff_cookies(context))  # type: ignore[arg-type]
            response = await client.get("/v1/xborder/state")

            async def link_idle() -> bool:
                # the link's resend after a second without an ack (a loaded machine) puts
                # messages in flight again a moment after the exchange settled (CI at
                # 6c86153 and cda49ee under load: waiting 22)
                nonlocal response
                response = await client.get("/v1/xborder/state")
                link = response.json().get("link") or {}
                return link.get("waiting") == 0 and link.get("unacked") == 0

            await eventually(link_idle, timeout_s=30, what=f"{here.side.value}'s link idle")
            if here.side is Side.VN:
                await _acknowledge(client, here)
        assert anonymous.status_code == 401
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["link"]["side"] == here.side.value
        assert body["link"]["waiting"] == 0 and body["link"]["unacked"] == 0
        states = {c["crossing_id"]: c["state"] for c in body["crossings"]}
        assert states["VN-x0003"] == states["CN-x0017"] == "in_transit"
        assert states["VN-x0000"] == "entered"
        seen[here.side] = sorted((a["kind"], a["crossing_id"]) for a in body["alerts"])
        mismatch = next(a for a in body["alerts"] if a["crossing_id"] == "VN-x0005")
        assert mismatch["evidence"]["trailer_plate.seen"] == "29R10505"
    assert seen[Side.VN] == seen[Side.CN]
    assert len(seen[Side.VN]) == 6


async def _acknowledge(client: httpx.AsyncClient, here: GateSide) -> None:
    """A controller acknowledges an alert, with a reason: stored, shown, audited; once."""
    url = "/control/api/xborder/alerts/overdue:VN-x0003/acknowledge"
    body = {"reason": "driver called: broke down at the zero line"}
    as_viewer = await client.post(url, json=body, headers={"X-CSRF-Token": "x"})
    now = datetime.now(UTC)
    async with here.sessions() as session, session.begin():
        await create_controller(
            session=session, username="ctl-1", role="controller", password="y" * 12, now=now
        )
        token, csrf = await open_session(
            session=session, username="ctl-1", now=now, ttl=timedelta(hours=1)
        )
    client.cookies.update({COOKIE: token})
    done = await client.post(url, json=body, headers={"X-CSRF-Token": csrf})
    again = await client.post(url, json=body, headers={"X-CSRF-Token": csrf})
    unknown = await client.post(
        "/control/api/xborder/alerts/overdue:nope/acknowledge",
        json=body,
        headers={"X-CSRF-Token": csrf},
    )
    assert as_viewer.status_code == 403
    assert done.status_code == 200, done.text
    assert done.json()["by"] == "ctl-1"
    assert again.status_code == 409
    assert unknown.status_code == 404
    # both name the alert in errors[], as every 4xx names its field (found by a stranger)
    assert again.json()["errors"] == [
        {"field": "alert_id", "message": "'overdue:VN-x0003' acknowledged already"}
    ]
    assert unknown.json()["errors"] == [
        {"field": "alert_id", "message": "'overdue:nope' is not raised"}
    ]
    state = (await client.get("/v1/xborder/state")).json()
    alert = next(a for a in state["alerts"] if a["alert_id"] == "overdue:VN-x0003")
    assert alert["acknowledged"]["reason"] == body["reason"]
    async with here.sessions() as session:
        [entry] = [e async for e in entries(session=session)]
    assert (entry.actor, entry.action, entry.target) == (
        "ctl-1",
        "acknowledge_xborder_alert",
        "overdue:VN-x0003",
    )
    assert entry.details["exit_message_id"] == "VN:VN-e0003"


async def _refusals(vn: GateSide, cn: GateSide) -> None:
    """Four bad messages on the Chinese side's inbound topic: each dead-lettered with its
    reason, none applied, and a good one behind them still applied."""
    assert vn.producer is not None and cn.producer is not None and cn.link is not None
    async with vn.sessions() as session:
        applied = (
            await session.scalars(select(XborderOutboxRow).order_by(XborderOutboxRow.sequence))
        ).first()
    assert applied is not None
    replayed = applied.envelope.encode()
    envelope = json.loads(replayed)
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["tractor_plate"] = "29H99999"
    tampered = dict(envelope, payload=base64.b64encode(json.dumps(payload).encode()).decode())
    unsigned = base64.b64decode(envelope["payload"])
    rogue = SigningKey.generate("vn-rogue", Side.VN)
    forged = dict(envelope, key_id=rogue.key_id)
    forged["signature"] = base64.b64encode(rogue.private.sign(unsigned)).decode()
    before = await cn.inbox_count()
    topic = inbound_topic(Side.VN)
    for value in (json.dumps(tampered).encode(), unsigned, replayed, json.dumps(forged).encode()):
        await cn.producer.send_and_wait(topic, value=value, key=b"VN")
    # what followed the messages the restarted broker lost was refused as reordered (a
    # gap) until the sender resent from the first unacknowledged: not these four
    headers = await dead_letters(
        cn.bootstrap, f"{topic}.dlq", expect=4, skip=frozenset({"reordered"})
    )
    kinds = [h["dlq.error.type"] for h in headers]
    assert kinds == ["bad_signature", "unsigned", "replayed", "unknown_key"]
    assert "does not verify under key 'vn-2026-01'" in headers[0]["dlq.error"]
    assert f"message {applied.message_id} was applied already" in headers[2]["dlq.error"]
    assert "'vn-rogue' is not a trusted key" in headers[3]["dlq.error"]
    assert await cn.inbox_count() == before
    # The link still works behind them.
    await _send(vn, departures(Side.VN, N + 1, start=DAY + timedelta(hours=20))[-2:])
    await eventually(lambda: _exchange_settled(vn, cn), what="a message after the refusals")
    assert await cn.inbox_count() == before + 2

    # China told Vietnam of each (a signed refusal naming the message the record said it
    # was), and Vietnam keeps the latest on its message: its operators see it refused
    async def told() -> bool:
        async with vn.sessions() as session:
            row = await session.get(XborderOutboxRow, applied.sequence)
        return row is not None and row.peer_refused_kind == "unknown_key"

    await eventually(told, what="China's refusals kept on Vietnam's message")
    async with vn.sessions() as session:
        row = await session.get(XborderOutboxRow, applied.sequence)
    assert row is not None and row.peer_refusal is not None
    assert "'vn-rogue' is not a trusted key" in row.peer_refusal, row.peer_refusal


async def test_key_rotation_without_downtime(sides: tuple[GateSide, GateSide]) -> None:
    """Vietnam rotates its key: China trusts both, Vietnam switches (messages stored under
    the old key still verify), China drops the old one; nothing refused on the way."""
    vn, cn = sides
    start = DAY + timedelta(hours=8)
    trucks = departures(Side.VN, 6, start=start)
    await _send(vn, trucks[:4])
    await eventually(lambda: _exchange_settled(vn, cn), what="before the rotation")
    old = vn.key
    new = SigningKey.generate("vn-2026-02", Side.VN)
    await cn.stop_link()
    await cn.start_link(vn, trusted=TrustedKeys.of(old.trusted(), new.trusted()))
    await vn.stop_link()
    vn.key = new
    await vn.start_link(cn)
    await _send(vn, trucks[4:8])
    await eventually(lambda: _exchange_settled(vn, cn), what="after the switch")
    await cn.stop_link()
    await cn.start_link(vn, trusted=TrustedKeys.of(new.trusted()))
    await _send(vn, departures(Side.VN, 8, start=start)[12:])
    await eventually(lambda: _exchange_settled(vn, cn), what="after the old key is dropped")
    async with cn.sessions() as session:
        keys = list(
            await session.scalars(select(XborderInboxRow.key_id).order_by(XborderInboxRow.sequence))
        )
    assert keys == ["vn-2026-01"] * 4 + ["vn-2026-02"] * 8
    assert cn.link is not None
    assert not [k for k in cn.link.stats if k.startswith("refused_")]
