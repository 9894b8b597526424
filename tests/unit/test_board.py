from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from lanes.board import Board, BoardError, Container, Queued, Truck
from lanes.board_json import board_from_json, board_to_json
from lanes.errors import DomainError
from lanes.model import BookingStatus, CargoClass, CustomsChannel, Direction
from services.gates.loader import get_gate

GATE = get_gate("huu-nghi")
T0 = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)  # 10:00 local
MIN = timedelta(minutes=1)
YARD = "tan-thanh-yard"


def truck(
    visit_id: str,
    minute: float = 0,
    *,
    direction: Direction = Direction.EXPORT,
    perishable: bool = False,
    containers: int = 0,
    booking: BookingStatus = BookingStatus.WALK_IN,
) -> Truck:
    cargo = {CargoClass.PERISHABLE} if perishable else set()
    if containers:
        cargo.add(CargoClass.CONTAINER)
    return Truck(
        visit_id=visit_id,
        direction=direction,
        arrived_at=T0 + minute * MIN,
        channel=CustomsChannel.GREEN,
        cargo=frozenset(cargo or {CargoClass.GENERAL}),
        containers=containers,
        booking=booking,
        manifest_id=f"M-{visit_id}",
    )


def queued(t: Truck, minutes: float = 1.5) -> Queued:
    return Queued(t, minutes * MIN, T0, T0 + minutes * MIN)


def test_a_fresh_board_has_every_lane_open_and_idle_and_every_carrier_home() -> None:
    board = Board.for_gate(GATE)

    assert [lane.lane_id for lane in board.lanes] == [lane.lane_id for lane in GATE.lanes]
    assert all(lane.is_open and lane.serving is None and not lane.queue for lane in board.lanes)
    assert [c.carrier_id for c in board.carriers] == [f"AC-{n}" for n in range(1, 7)]
    assert all(c.back_at is None and not c.out_of_service for c in board.carriers)
    assert board.yard is not None
    assert (board.yard.yard_id, board.yard.bay_count, board.yard.capacity) == (YARD, 4, 40)
    assert board.yard.round_trip == 20 * MIN


def test_queues_are_kept_by_priority_then_arrival() -> None:
    board = Board.for_gate(GATE)
    board = board.assigned(queued(truck("walk-1", 0)), place="HN-E1")
    board = board.assigned(queued(truck("walk-2", 2)), place="HN-E1")
    board = board.assigned(queued(truck("fruit", 3, perishable=True)), place="HN-E1")
    board = board.assigned(queued(truck("booked", 1, booking=BookingStatus.ON_TIME)), place="HN-E1")

    order = [e.truck.visit_id for e in board.lane("HN-E1").queue]
    assert order == ["booked", "fruit", "walk-1", "walk-2"]


def test_assigning_a_queued_truck_again_moves_it() -> None:
    board = Board.for_gate(GATE).assigned(queued(truck("t1")), place="HN-E1")
    board = board.assigned(queued(truck("t1")), place="HN-E2")

    assert board.lane("HN-E1").queue == ()
    assert board.place_of("t1") == "HN-E2"


def test_a_truck_enters_and_leaves_its_lane() -> None:
    before = Board.for_gate(GATE).assigned(queued(truck("t1"), 2), place="HN-E1")

    inside = before.truck_entered("t1", "HN-E1", T0 + MIN)
    serving = inside.lane("HN-E1").serving
    assert serving is not None
    assert (serving.since, serving.until) == (T0 + MIN, T0 + 3 * MIN)
    assert inside.lane("HN-E1").queue == ()

    gone = inside.truck_left("t1", T0 + 4 * MIN)
    assert gone.lane("HN-E1").serving is None
    assert gone.place_of("t1") is None
    assert before.lane("HN-E1").queue[0].truck.visit_id == "t1"  # copy on write


def test_a_truck_may_take_another_lane_than_planned() -> None:
    board = Board.for_gate(GATE).assigned(queued(truck("t1")), place="HN-E1")
    board = board.truck_entered("t1", "HN-E4", T0)
    assert board.place_of("t1") == "HN-E4"
    assert board.lane("HN-E1").queue == ()


def test_events_that_do_not_fit_are_board_errors() -> None:
    board = Board.for_gate(GATE)
    with pytest.raises(BoardError, match="queued nowhere"):
        board.truck_entered("ghost", "HN-E1", T0)
    with pytest.raises(BoardError, match="in no lane"):
        board.truck_left("ghost", T0)
    with pytest.raises(DomainError, match="no lane 'HN-X9'"):
        board.lane_closed("HN-X9", T0)
    with pytest.raises(DomainError, match="no carrier 'AC-9'"):
        board.carrier_out("AC-9", T0)


def test_a_truck_seen_leaving_without_entering_leaves_its_queue() -> None:
    board = Board.for_gate(GATE).assigned(queued(truck("t1")), place="HN-E1")
    assert board.truck_left("t1", T0).place_of("t1") is None


def test_lanes_close_and_open_and_carriers_go_out_and_come_back() -> None:
    board = Board.for_gate(GATE).lane_closed("HN-E3", T0)
    assert not board.lane("HN-E3").is_open
    assert board.lane("HN-E3").changed_at == T0
    assert board.lane_opened("HN-E3", T0 + MIN).lane("HN-E3").is_open

    board = board.carrier_out("AC-2", T0)
    assert board.carrier("AC-2").out_of_service
    assert not board.carrier_back("AC-2", T0).carrier("AC-2").out_of_service


def test_a_handover_leaves_the_containers_waiting_for_a_carrier() -> None:
    board = Board.for_gate(GATE)
    board = board.assigned(queued(truck("t1", containers=2), 2), place=YARD)
    board = board.assigned(
        queued(truck("t2", direction=Direction.IMPORT, containers=1)), place=YARD
    )
    board = board.truck_entered("t1", YARD, T0).truck_entered("t2", YARD, T0)
    assert board.yard is not None
    assert len(board.yard.bays) == 2
    assert board.yard.containers_planned() == 3

    board = board.truck_left("t1", T0 + 2 * MIN).truck_left("t2", T0 + 3 * MIN)
    assert board.yard is not None
    assert board.yard.waiting == (
        Container("t1/1", Direction.EXPORT, T0 + 2 * MIN),
        Container("t1/2", Direction.EXPORT, T0 + 2 * MIN),
        Container("t2/1", Direction.IMPORT, T0 + 3 * MIN),
    )

    # one container each way per trip, the longest waiting first, back after the mean trip
    board = board.carrier_departed("AC-1", T0 + 5 * MIN)
    carrier = board.carrier("AC-1")
    assert carrier.load == ("t1/1", "t2/1")
    assert carrier.back_at == T0 + 25 * MIN
    assert board.yard is not None
    assert [c.ref for c in board.yard.waiting] == ["t1/2"]
    with pytest.raises(BoardError, match="not in the yard"):
        board.carrier_departed("AC-2", T0, refs=["t9/1"])

    board = board.carrier_arrived("AC-1", T0 + 24 * MIN)
    assert board.carrier("AC-1").back_at is None
    assert board.carrier("AC-1").load == ()


def test_every_bay_busy_refuses_another_handover() -> None:
    board = Board.for_gate(GATE)
    for n in range(5):
        board = board.assigned(queued(truck(f"t{n}", n, containers=1)), place=YARD)
    for n in range(4):
        board = board.truck_entered(f"t{n}", YARD, T0)
    with pytest.raises(BoardError, match="every bay is busy"):
        board.truck_entered("t4", YARD, T0)


def _busy_board() -> Board:
    board = Board.for_gate(GATE)
    board = board.assigned(queued(truck("in-lane", 0)), place="HN-E1")
    board = board.truck_entered("in-lane", "HN-E1", T0)
    board = board.assigned(queued(truck("fruit", 1, perishable=True)), place="HN-E1")
    board = board.assigned(
        Queued(truck("boxed", 2, containers=1), 2 * MIN, T0, T0 + 2 * MIN, "AC-3", T0 + 9 * MIN),
        place=YARD,
    )
    board = board.assigned(queued(truck("handing", 2, containers=1)), place=YARD)
    board = board.truck_entered("handing", YARD, T0)
    board = board.assigned(queued(truck("handed", 3, containers=1)), place=YARD)
    board = board.truck_entered("handed", YARD, T0).truck_left("handed", T0 + 2 * MIN)
    board = board.lane_closed("HN-E5", T0).carrier_out("AC-6", T0)
    board = board.assigned(queued(truck("back", 3, containers=1)), place=YARD)
    return (
        board.truck_entered("back", YARD, T0)
        .truck_left("back", T0 + MIN)
        .carrier_departed("AC-2", T0 + 3 * MIN)
    )


def test_the_board_round_trips_through_plain_json() -> None:
    board = _busy_board()

    data = board_to_json(board)
    text = json.dumps(data)  # plain JSON types only
    again = board_from_json(json.loads(text))

    assert again == board
    assert board_to_json(again) == data


def test_a_malformed_snapshot_is_a_board_error() -> None:
    data = board_to_json(_busy_board())
    del data["lanes"][0]["queue"]
    with pytest.raises(BoardError, match="malformed board snapshot"):
        board_from_json(data)
