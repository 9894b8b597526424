"""A day's reads sent in one burst (found by a stranger's try of `borderflow up
--no-simulator`, a bare client sending a day's waiting-area reads and then its gate reads):
call-forward took a truck's area read and its gate read in one batch, called the truck
(on the calls topic, and by SMS) and saw it reach the gate, but wrote no call for the
gate's decider (`called_places` empty), so the decider sent the truck where its policy
alone said: called to HN-E3, assigned HN-E2. Here the two real use cases, on SQLite and
PostgreSQL, one after the other (no race): each truck's decision is its call's lane."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.model import Direction, Manifest
from lanes.policy import OrchestratedPolicy
from services.adapters.sql_gate import sql_gate_stores
from services.bootstrap import make_callforward, make_decider
from services.db.engine import session_factory
from services.db.manifests import store_manifests
from services.gates.loader import default_gates
from services.replay.sandbox import RecordingProducer, consumer_record
from services.simulation.traffic import archived_reads
from streams.calls import CallEventV1
from streams.events import PlateReadV1
from streams.runtime import Inbound
from streams.topics import PLATE_READS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

MIN = timedelta(minutes=1)
T0 = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # 10:00 at the gate (+07:00): lanes open
AREA, GATE_IN = "hn-exp-approach-1", "hn-exp-gate-1"
PLATES = ("29C11111", "29C22222", "29C33333", "29C44444")


def _read(event_id: str, camera: str, plate: str, at: datetime) -> PlateReadV1:
    return PlateReadV1(
        event_id=event_id, camera_id=camera, captured_at=at, plate_text=plate, confidence=0.97
    )


async def test_trucks_called_and_at_the_gate_in_one_batch_go_to_their_calls_lanes(
    engine: AsyncEngine,
) -> None:
    sessions = session_factory(engine)
    trucks = [
        Manifest(
            manifest_id=f"B-{n}", firm_id="firm-b", direction=Direction.EXPORT, tractor_plate=p
        )
        for n, p in enumerate(PLATES, start=1)
    ]
    async with sessions() as session, session.begin():
        await store_manifests(session=session, manifests=trucks, source="http", now=T0)
    # the burst: the area's reads (10:00-10:03), then the gate's (10:06-10:09)
    reads = [_read(f"a-{n}", AREA, p, T0 + n * MIN) for n, p in enumerate(PLATES)]
    reads += [_read(f"g-{n}", GATE_IN, p, T0 + (6 + n) * MIN) for n, p in enumerate(PLATES)]
    sent: list[CallEventV1] = []

    async def publish(call: CallEventV1) -> None:
        sent.append(call)

    callforward = make_callforward(
        sessions=sessions, gates=default_gates(), publish=publish, secret=b"burst"
    )
    await callforward.handle(
        [Inbound(PLATE_READS.name, 0, n, None, r) for n, r in enumerate(reads)]
    )
    calls = {c.manifest_id: c.lane_id for c in sent if c.type == "truck.called"}
    assert set(calls) == {t.manifest_id for t in trucks} and all(calls.values()), calls
    assert callforward.stats.at_gate == len(PLATES)

    producer = RecordingProducer()
    decider = make_decider(
        stores=sql_gate_stores(sessions),
        producer=cast(AIOKafkaProducer, producer),
        gates=default_gates(),
        policy=OrchestratedPolicy(),
    )
    records = archived_reads(reads)
    await decider.handle(
        [
            Inbound(PLATE_READS.name, 0, n, None, decider.decode(consumer_record(r)))
            for n, r in enumerate(records)
        ]
    )
    decided = {d["manifest_id"]: d for d in producer.decisions()}
    assert {m: decided[m]["lane_id"] for m in calls} == calls
    for manifest_id, decision in decided.items():
        assert decision["reason"].startswith("called at "), (manifest_id, decision["reason"])
