"""This side's facts -> its crossing events (services/xborder/facts.py): which decisions and
lane events become a notice, an exit or an entry, at which event time, under which id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import ConsumerRecord

from lanes.crossings import ExitMode, Side
from lanes.model import CustomsStatus, Direction, Manifest
from services.xborder.corridor import side_gates_dir
from services.xborder.facts import (
    FactsPublisher,
    Skipped,
    decode_fact,
    events_of_decision,
    exit_of,
    gate_corridors,
)
from streams.errors import InvalidEvent
from streams.events import LaneDecisionV1
from streams.lane_events import LaneEventV1
from streams.runtime import Inbound
from streams.topics import LANE_DECISIONS, LANE_EVENTS

AT = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
VN = gate_corridors(None)["huu-nghi"]
CN = gate_corridors(side_gates_dir(Side.CN))["youyiguan"]


def _decision(outcome: str = "assigned", carrier_slot: str | None = None) -> LaneDecisionV1:
    return LaneDecisionV1(
        decision_id="d-1",
        visit_id="v-1",
        gate_id="huu-nghi",
        plate="29H10O07",
        manifest_id="m-1",
        outcome=outcome,  # type: ignore[arg-type]
        match_outcome="matched",
        match_score=0.9,
        lane_id="exp-1",
        carrier_slot=carrier_slot,
        reason="",
        decided_at=AT,
        expected_start_at=None,
        expected_done_at=None,
        read_event_ids=["r-1"],
    )


def _manifest(direction: Direction, status: CustomsStatus = CustomsStatus.CLEARED) -> Manifest:
    return Manifest(
        manifest_id="m-1",
        firm_id="firm-secret",
        direction=direction,
        tractor_plate="29H10007",
        trailer_plate="29R10007",
        cargo_description="durian, secret",
        perishable=True,
        customs_status=status,
    )


def test_an_assigned_cleared_truck_leaving_gets_a_notice_at_the_decision_time() -> None:
    (notice,) = events_of_decision(_decision(), _manifest(Direction.EXPORT), VN)
    assert (notice.kind, notice.event_id, notice.at) == ("notice", "notice:v-1", AT)
    assert notice.crossing_id == "VN:huu-nghi:m-1" and notice.peer_gate_id == "youyiguan"
    assert notice.tractor_plate == "29H10007" and notice.perishable
    assert [str(c) for c in notice.cargo_classes] == ["perishable"]


def test_no_notice_for_a_truck_not_assigned_or_not_cleared_or_without_manifest() -> None:
    assert events_of_decision(_decision("needs_review"), _manifest(Direction.EXPORT), VN) == []
    pending = _manifest(Direction.EXPORT, CustomsStatus.PENDING)
    assert events_of_decision(_decision(), pending, VN) == []
    assert events_of_decision(_decision(), None, VN) == []


def test_a_truck_from_the_other_side_is_an_entry_with_the_plate_read_here() -> None:
    (entry,) = events_of_decision(_decision("needs_review"), _manifest(Direction.IMPORT), VN)
    assert (entry.kind, entry.event_id, entry.crossing_id) == ("entry", "entry:v-1", None)
    assert entry.tractor_plate == "29H10O07"  # as read: the other side compares identities
    # on the Chinese side the directions swap: export arrives, import leaves
    assert events_of_decision(_decision(), _manifest(Direction.EXPORT), CN)[0].kind == "entry"
    assert events_of_decision(_decision(), _manifest(Direction.IMPORT), CN)[0].kind == "notice"


def test_truck_left_is_the_exit_at_the_event_time_by_road_or_carrier() -> None:
    left = LaneEventV1(
        event_id="le-1",
        gate_id="huu-nghi",
        kind="truck_left",
        at=AT + timedelta(minutes=4),
        visit_id="v-1",
    )
    road = exit_of(left, _decision(), _manifest(Direction.EXPORT), VN)
    assert road is not None and (road.event_id, road.at, road.mode) == (
        "exit:v-1",
        AT + timedelta(minutes=4),
        ExitMode.ROAD,
    )
    carried = exit_of(left, _decision(carrier_slot="c-2"), _manifest(Direction.EXPORT), VN)
    assert carried is not None and carried.mode is ExitMode.AUTONOMOUS_CARRIER
    assert exit_of(left, _decision(), _manifest(Direction.IMPORT), VN) is None
    assert exit_of(left, None, None, VN) is None
    entered = left.model_copy(update={"kind": "truck_entered", "lane_id": "exp-1"})
    assert exit_of(entered, _decision(), _manifest(Direction.EXPORT), VN) is None


def _record(topic: str, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(topic, 1, 7, 0, 0, b"huu-nghi", value, None, 8, len(value), ())


async def test_a_malformed_lane_event_is_left_to_its_owner_to_dead_letter() -> None:
    """The lane-event worker dead-letters a lane event that does not decode; this loop,
    reading the same topic, dead-lettered it again (two copies, redriven twice)."""
    skipped = decode_fact(_record(LANE_EVENTS.name, b"garbage"))
    assert isinstance(skipped, Skipped)
    assert skipped.reason.startswith("borderflow.lane-events[1]@7: invalid JSON")
    publisher = FactsPublisher(sessions=None, producer=None, corridors={})  # type: ignore[arg-type]
    await publisher.handle([Inbound(LANE_EVENTS.name, 1, 7, b"huu-nghi", skipped)])
    assert publisher.published == 0
    with pytest.raises(InvalidEvent):  # a lane decision's only decoding reader: dead-lettered
        decode_fact(_record(LANE_DECISIONS.name, b"garbage"))
