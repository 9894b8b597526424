"""The call-forward desk (issue 23): trucks entering the waiting area are called when their
lane is free by the time they drive up; each call, recall and lost place is returned in
order (the use case puts them in the calls' outbox: tests/integration/
test_callforward_worker.py has them on the topic), and each truck's page data follows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from lanes.board import Board, Truck
from lanes.model import BookingStatus, CargoClass, CustomsChannel, Direction
from lanes.policy.hours import local_hhmm
from services.drivers.desk import CallForwardDesk
from services.drivers.hub import DriverHub
from services.gates.loader import get_gate
from streams.calls import call_to_wire

pytestmark = [pytest.mark.timeout(120)]

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


async def test_calls_recalls_and_a_lost_place_are_events_and_reach_the_page() -> None:
    hub = DriverHub(secret=b"desk")
    desk = CallForwardDesk(gate=HN, board=Board.for_gate(HN), hub=hub)
    called = await desk.entered(truck(1), at=T0)
    assert [e.visit_id for e in called] == ["desk-1"]
    page = json.loads(hub.state(hub.token_for("desk-1")) or "{}")
    assert page["status"] == "called" and page["lane_id"]
    decided = [*called, *await desk.entered(truck(2), at=T0 + MIN)]
    decided += await desk.reached_gate("desk-2", at=T0 + 6 * MIN)
    assert json.loads(hub.state(hub.token_for("desk-2")) or "{}") == {
        "status": "at_gate",
        "reached_at": "2025-06-02T10:06:00+07:00",
        "zone": "UTC+07:00",
    }
    deadline = T0 + 15 * MIN  # desk-1: called at T0, 5 min drive, 10 min grace
    decided += await desk.step(now=deadline)
    decided += await desk.step(now=deadline + 15 * MIN)
    lost = json.loads(hub.state(hub.token_for("desk-1")) or "{}")
    assert lost["status"] == "lost" and "place lost" in lost["reason"]
    assert lost["missed"] == local_hhmm(deadline + 15 * MIN, HN.utc_offset)
    events = [(w.visit_id, w.type) for w in map(call_to_wire, decided)]
    assert events == [
        ("desk-1", "truck.called"),
        ("desk-2", "truck.called"),
        ("desk-1", "truck.recalled"),
        ("desk-1", "truck.place_lost"),
    ]
