"""The call-forward desk on the embedded broker (issue 23): trucks entering the waiting
area are called when their lane is free by the time they drive up; each call, recall and
lost place is an event on the calls topic, and each truck's page data follows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from lanes.board import Board, Truck
from lanes.model import BookingStatus, CargoClass, CustomsChannel, Direction
from lanes.policy.hours import local_hhmm
from services.drivers.desk import CallForwardDesk, kafka_publisher
from services.drivers.hub import DriverHub
from services.gates.loader import get_gate
from services.runtime.settings import KafkaSettings
from streams.calls import decode_call
from streams.clients import ensure_topics, make_producer
from streams.topics import TopicSpec
from tests.integration.harness import collect
from tests.kafka_plugin import unique_name

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

HN = get_gate("huu-nghi")
T0 = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def truck(n: int) -> Truck:
    return Truck(
        visit_id=f"desk-{n}",
        direction=Direction.EXPORT,
        arrived_at=T0 + n * timedelta(seconds=1),
        channel=CustomsChannel.GREEN,
        cargo=frozenset({CargoClass.GENERAL}),
        containers=0,
        booking=BookingStatus.WALK_IN,
    )


async def test_calls_recalls_and_a_lost_place_are_events_and_reach_the_page(
    kafka_settings: KafkaSettings, kafka_bootstrap: str
) -> None:
    topic = TopicSpec(unique_name("borderflow.calls"), 1, "visit_id", "test")
    await ensure_topics(kafka_settings, kafka_bootstrap, [topic])
    producer = make_producer(kafka_settings, kafka_bootstrap)
    await producer.start()
    hub = DriverHub(secret=b"desk")
    try:
        desk = CallForwardDesk(
            gate=HN, board=Board.for_gate(HN), publish=kafka_publisher(producer, topic.name),
            hub=hub,
        )  # fmt: skip
        called = await desk.entered(truck(1), at=T0)
        assert [e.visit_id for e in called] == ["desk-1"]
        page = json.loads(hub.state(hub.token_for("desk-1")) or "{}")
        assert page["status"] == "called" and page["lane_id"]
        await desk.entered(truck(2), at=T0 + MIN)
        await desk.reached_gate("desk-2", at=T0 + 6 * MIN)
        assert json.loads(hub.state(hub.token_for("desk-2")) or "{}") == {
            "status": "at_gate",
            "reached_at": "2025-06-02T10:06:00+07:00",
            "zone": "UTC+07:00",
        }
        deadline = T0 + 15 * MIN  # desk-1: called at T0, 5 min drive, 10 min grace
        await desk.step(now=deadline)
        await desk.step(now=deadline + 15 * MIN)
        lost = json.loads(hub.state(hub.token_for("desk-1")) or "{}")
        assert lost["status"] == "lost" and "place lost" in lost["reason"]
        assert lost["missed"] == local_hhmm(deadline + 15 * MIN, HN.utc_offset)
    finally:
        await producer.stop()
    records = await collect(kafka_bootstrap, topic.name, expect=4, timeout=20)
    events = [(r.key.decode(), decode_call(r.value).type) for r in records]
    assert events == [
        ("desk-1", "truck.called"),
        ("desk-2", "truck.called"),
        ("desk-1", "truck.recalled"),
        ("desk-1", "truck.place_lost"),
    ]
