"""The live system publishes its own crossing events (issue 21): no test or demo writes to
`borderflow.xborder.outbound` here. Each side runs its decider and orchestrator on its own
broker and database, with its link (the facts loop on); a truck is seen by Vietnam's gate
cameras, decided, leaves by the exit camera, and is seen by China's cameras:

- Vietnam's decision (assigned, cleared export manifest) becomes a pre-arrival notice that
  China applies; the `truck_left` lane event becomes the exit; China's decision on the
  arriving truck becomes an entry tied to Vietnam's crossing, which Vietnam applies;
- all at event time (the reads' and the lane event's), and once: the same lane event sent
  again and the decision re-planned publish the same local event ids, taken once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from lanes.crossings import Crossing, Side
from lanes.model import Direction
from services.api.app import ApiContext, create_app
from services.db.booking_tables import BookingRow
from services.db.tables import DecisionRow, ManifestRow
from services.runtime.settings import DatabaseSettings, Settings
from services.xborder.corridor import SIDE_GATES, side_gates_dir
from services.xborder.facts import gate_corridors
from services.xborder.tables import XborderOutboxRow
from streams.topics import LANE_EVENTS
from streams.xborder_local import LocalCrossingEventV1
from tests.conftest import POSTGRES_URL, _create_schema, _drop_schema
from tests.integration.harness import (
    Running,
    as_message,
    make_settings,
    manifest,
    publish,
    publish_to,
    read,
    running_system,
    seed,
    staff_cookies,
)
from tests.integration.xborder_harness import (
    DAY,
    GateSide,
    container,
    eventually,
    fast_kafka,
    gate_side,
)

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]

T = DAY + timedelta(hours=2)  # 09:00 at Huu Nghi (+07:00), 10:00 at Youyiguan (+08:00)


def _settings(side: GateSide, database: DatabaseSettings, tmp: Path) -> Settings:
    settings = make_settings(side.bootstrap, database, tmp / side.side.value.lower())
    # as `borderflow up --side` (side_settings): the side's gate files and its gate
    return settings.model_copy(
        update={"gates_dir": side_gates_dir(side.side), "gate_id": SIDE_GATES[side.side]}
    )


@pytest_asyncio.fixture
async def live(
    tmp_path: Path,
) -> AsyncIterator[tuple[GateSide, Running, GateSide, Running]]:
    schemas = [f"bf_test_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    for schema in schemas:
        await _create_schema(schema)
    vn_db, cn_db = (DatabaseSettings(url=POSTGRES_URL, schema_name=s) for s in schemas)
    try:
        async with (
            gate_side(Side.VN, vn_db, tmp_path) as vn,
            gate_side(Side.CN, cn_db, tmp_path) as cn,
            running_system(_settings(vn, vn_db, tmp_path)) as vn_run,
            running_system(_settings(cn, cn_db, tmp_path)) as cn_run,
        ):
            for me, peer, run in ((vn, cn, vn_run), (cn, vn, cn_run)):
                corridors = gate_corridors(side_gates_dir(me.side))
                await me.start_link(peer, corridors=corridors, gates=run.infra.gates)
            yield vn, vn_run, cn, cn_run
    finally:
        for schema in schemas:
            await _drop_schema(schema)


async def _crossing(side: GateSide, crossing_id: str) -> Crossing | None:
    return next((c for c in await side.crossings() if c.crossing_id == crossing_id), None)


async def _outbox_ids(side: GateSide) -> list[str]:
    async with side.sessions() as session:
        return list(await session.scalars(select(XborderOutboxRow.source_event_id)))


async def test_the_live_decider_path_publishes_what_the_link_sends(
    live: tuple[GateSide, Running, GateSide, Running],
) -> None:
    vn, vn_run, cn, cn_run = live
    box = container("VNA", 7)
    await seed(
        vn_run.infra,
        manifest("vn-m-1", "29H10007", direction=Direction.EXPORT, containers=(box,)),
        # an import into Vietnam: its decision is not a notice to China
        manifest("vn-m-2", "29H10008", direction=Direction.IMPORT),
        now=T - timedelta(hours=1),
    )
    # China's own declaration of the same arriving truck
    await seed(
        cn_run.infra,
        manifest("cn-m-1", "29H10007", direction=Direction.EXPORT, containers=(box,)),
        now=T - timedelta(hours=1),
    )
    # 1. Vietnam's gate cameras see the truck: decided, assigned -> a notice to China
    await publish(vn.bootstrap, as_message(read("vn-r-1", "29H10007", T)))
    await publish(vn.bootstrap, as_message(read("vn-r-2", "29H10008", T, camera="hn-imp-gate-1")))

    async def decided() -> DecisionRow | None:
        async with vn.sessions() as session:
            return await session.scalar(
                select(DecisionRow).where(DecisionRow.manifest_id == "vn-m-1")
            )

    await eventually(decided, what="Vietnam's decision on the truck", timeout_s=60)
    decision = await decided()
    assert decision is not None and decision.outcome == "assigned", decision
    crossing_id = "VN:huu-nghi:vn-m-1"

    async def announced() -> bool:
        crossing = await _crossing(cn, crossing_id)
        return crossing is not None and crossing.notice is not None

    await eventually(announced, what="China applied Vietnam's notice", timeout_s=60)
    crossing = await _crossing(cn, crossing_id)
    assert crossing.notice.at == T  # the decision's event time, not the wall clock
    assert crossing.notice.truck.containers == (box,) and crossing.exit is None

    # 2. into its lane, then the exit camera: truck_left -> the exit (sent twice: taken once)
    left_at = T + timedelta(minutes=4)
    entered_lane = {
        "event_id": "vn-le-0",
        "gate_id": "huu-nghi",
        "kind": "truck_entered",
        "at": (T + timedelta(minutes=1)).isoformat(),
        "visit_id": decision.visit_id,
        "lane_id": decision.lane_id,
    }
    lane_event = entered_lane | {"event_id": "vn-le-1", "kind": "truck_left"}
    lane_event |= {"at": left_at.isoformat()}
    del lane_event["lane_id"]
    await publish_to(
        vn.bootstrap, LANE_EVENTS.name, ("huu-nghi", json.dumps(entered_lane).encode())
    )
    for _ in range(2):
        await publish_to(
            vn.bootstrap, LANE_EVENTS.name, ("huu-nghi", json.dumps(lane_event).encode())
        )

    async def exited() -> bool:
        crossing = await _crossing(cn, crossing_id)
        return crossing is not None and crossing.exit is not None

    await eventually(exited, what="China applied Vietnam's exit", timeout_s=60)
    assert (await _crossing(cn, crossing_id)).exit.at == left_at

    # 3. China's cameras see it arrive: decided -> the entry, tied to Vietnam's crossing
    arrived = T + timedelta(minutes=25)
    await publish(
        cn.bootstrap, as_message(read("cn-r-1", "29H10007", arrived, camera="yg-exp-gate-1"))
    )

    async def entered() -> bool:
        crossing = await _crossing(vn, crossing_id)
        return crossing is not None and crossing.entry is not None

    await eventually(entered, what="Vietnam applied China's entry", timeout_s=60)
    assert (await _crossing(vn, crossing_id)).entry.at == arrived
    assert (await _crossing(cn, crossing_id)).entry is not None

    # once each, by the local event id; the truck entering Vietnam from China (vn-m-2,
    # unannounced) is an entry of Vietnam's, no notice
    vn_ids = [i for i in await _outbox_ids(vn) if i]
    cn_ids = [i for i in await _outbox_ids(cn) if i]
    visit = decision.visit_id
    assert sorted(i for i in vn_ids if not i.startswith("entry:")) == [
        f"exit:{visit}",
        f"notice:{visit}",
    ], vn_ids
    assert len([i for i in vn_ids if i.startswith("entry:")]) == 1, vn_ids
    assert len(cn_ids) == 1 and cn_ids[0].startswith("entry:"), cn_ids
    assert vn.link is not None and vn.link.publisher.published >= 3  # the exit twice
    await _control_room_stream(cn, cn_run, crossing_id)


async def _control_room_stream(side: GateSide, run: Running, crossing_id: str) -> None:
    """China's control room: the live stream of the other side's state, and its script."""
    context = ApiContext(
        sessions=side.sessions,
        kafka=fast_kafka(side.bootstrap),
        bootstrap=side.bootstrap,
        gates=run.infra.gates,
        default_gate="youyiguan",
    )
    transport = httpx.ASGITransport(app=create_app(context))
    async with httpx.AsyncClient(transport=transport, base_url="http://bf.test") as client:
        anonymous = await client.get("/v1/xborder/stream?max_s=1")
        client.cookies.update(await staff_cookies(context))  # type: ignore[arg-type]
        streamed = await client.get("/v1/xborder/stream?max_s=1")
        script = await client.get("/control/static/xborder.js")
        page = await client.get("/control")
    assert anonymous.status_code == 401
    assert streamed.status_code == 200, streamed.text
    assert streamed.headers["content-type"].startswith("text/event-stream")
    first, *_ = [b for b in streamed.text.split("\n\n") if b.startswith("event: state")]
    state = json.loads(first.split("data: ", 1)[1])
    crossing = next(c for c in state["crossings"] if c["crossing_id"] == crossing_id)
    assert crossing["state"] == "entered" and crossing["from_side"] == "VN"
    assert crossing["exit"]["tractor_plate"] == "29H10007"
    assert streamed.text.rstrip().endswith("event: bye\ndata: {}")
    assert script.status_code == 200 and "/v1/xborder/stream" in script.text
    assert 'src="/control/static/xborder.js"' in page.text


async def test_a_notice_is_a_prior_for_the_matcher_and_holds_the_booked_slot(
    live: tuple[GateSide, Running, GateSide, Running],
) -> None:
    """China has no manifest of its own for Vietnam's truck: the notice makes it an expected
    candidate (an announced manifest), so China's misread of its plate is attributed to it;
    a notice with a booked slot at Youyiguan books that slot there."""
    vn, vn_run, cn, _ = live
    await seed(
        vn_run.infra,
        manifest("vn-m-3", "29H10009", direction=Direction.EXPORT),
        now=T - timedelta(hours=1),
    )
    await publish(vn.bootstrap, as_message(read("vn-r-3", "29H10009", T)))
    announced = "xb-VN:huu-nghi:vn-m-3"

    async def stored() -> bool:
        async with cn.sessions() as session:
            row = await session.get(ManifestRow, announced)
            return row is not None

    await eventually(stored, what="China's announced manifest", timeout_s=60)
    async with cn.sessions() as session:
        row = await session.get(ManifestRow, announced)
        assert row is not None
        assert (row.source, row.customs_status, row.tractor_plate) == (
            "xborder",
            "pending",
            "29H10009",
        )
        assert row.window_start == T
    # China reads the arriving truck's plate wrong (O for 0): attributed to the announced truck
    arrived = T + timedelta(minutes=22)
    await publish(
        cn.bootstrap, as_message(read("cn-r-3", "29H10O09", arrived, camera="yg-exp-gate-1"))
    )

    async def decided() -> DecisionRow | None:
        async with cn.sessions() as session:
            return await session.scalar(
                select(DecisionRow).where(DecisionRow.gate_id == "youyiguan")
            )

    await eventually(decided, what="China's decision on the misread truck", timeout_s=60)
    decision = await decided()
    assert decision is not None and decision.manifest_id == announced, decision.__dict__

    # a notice with a slot booked at Youyiguan (12:00-12:30 local): held there
    slot = T + timedelta(hours=2)
    notice = LocalCrossingEventV1(
        event_id="vn-notice-slot",
        kind="notice",
        at=T,
        crossing_id="VN:huu-nghi:vn-m-4",
        gate_id="huu-nghi",
        peer_gate_id="youyiguan",
        direction=Direction.EXPORT,
        tractor_plate="29H10010",
        booked_slot_start=slot,
        booked_slot_end=slot + timedelta(minutes=30),
    )
    await vn.publish([notice])

    async def booked() -> BookingRow | None:
        async with cn.sessions() as session:
            return await session.scalar(
                select(BookingRow).where(BookingRow.manifest_id == "xb-VN:huu-nghi:vn-m-4")
            )

    await eventually(booked, what="China's booking of the announced slot", timeout_s=60)
    booking = await booked()
    assert booking is not None
    assert (booking.gate_id, booking.status, booking.direction) == ("youyiguan", "active", "export")
    assert booking.slot_start.replace(tzinfo=UTC) == slot
