"""OrchestratedPolicy.replan: lane closures, open hours ending, carrier outages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from lanes.board import Board, Queued, Truck
from lanes.model import (
    BookingStatus,
    CargoClass,
    Carrier,
    CarrierFleet,
    CustomsChannel,
    DailyHours,
    Direction,
    Gate,
    Lane,
    LaneKind,
    Outcome,
    TransferYard,
)
from lanes.policy import OrchestratedPolicy
from services.gates.loader import get_gate

HN = get_gate("huu-nghi")
POLICY = OrchestratedPolicy()
MIN = timedelta(minutes=1)
LOCAL = timedelta(hours=7)
NOON = datetime(2025, 6, 2, 5, 0, tzinfo=UTC)  # 12:00 local


def truck(
    visit_id: str,
    minute: float,
    *,
    channel: CustomsChannel = CustomsChannel.GREEN,
    perishable: bool = False,
    containers: int = 0,
) -> Truck:
    cargo = {CargoClass.PERISHABLE} if perishable else set()
    if containers:
        cargo.add(CargoClass.CONTAINER)
    return Truck(
        visit_id,
        Direction.EXPORT,
        NOON + minute * MIN,
        channel,
        frozenset(cargo or {CargoClass.GENERAL}),
        containers,
        BookingStatus.WALK_IN,
    )


def queue_on(board: Board, lane_id: str, *trucks: Truck) -> Board:
    for t in trucks:
        board = board.assigned(Queued(t, 1.5 * MIN, NOON, NOON), place=lane_id)
    return board


def test_nothing_to_replan_changes_nothing() -> None:
    board = queue_on(Board.for_gate(HN), "HN-E1", truck("t1", 0))
    changes, after = POLICY.replan(board, HN, now=NOON)
    assert changes == []
    assert after == board


def test_a_lane_closure_moves_its_queue_in_priority_then_arrival_order() -> None:
    board = queue_on(Board.for_gate(HN), "HN-E1", truck("serving", -5))
    board = board.truck_entered("serving", "HN-E1", NOON)
    board = queue_on(
        board,
        "HN-E1",
        truck("walk-1", -3),
        truck("walk-2", -2),
        truck("fruit", -1, perishable=True),
    )
    board = board.lane_closed("HN-E1", NOON + 2 * MIN)

    changes, after = POLICY.replan(board, HN, now=NOON + 2 * MIN)

    assert [visit_id for visit_id, _ in changes] == ["fruit", "walk-1", "walk-2"]
    for _, assignment in changes:
        assert assignment.outcome is Outcome.ASSIGNED
        assert assignment.lane_id not in (None, "HN-E1")
        assert assignment.reason.startswith("re-planned: lane HN-E1 closed at 12:02 -> green")
    assert changes[0][1].lane_id == "HN-E2"
    assert after.lane("HN-E1").queue == ()
    serving = after.lane("HN-E1").serving
    assert serving is not None and serving.entry.truck.visit_id == "serving"  # finishes there
    assert {after.place_of(v) for v, _ in changes} == {a.lane_id for _, a in changes}


def test_a_closure_with_nowhere_else_to_go_is_a_refusal() -> None:
    hazmat = Truck(
        "h1",
        Direction.EXPORT,
        NOON,
        CustomsChannel.GREEN,
        frozenset({CargoClass.HAZMAT}),
        0,
        BookingStatus.WALK_IN,
    )
    board = queue_on(Board.for_gate(HN), "HN-E12", hazmat).lane_closed("HN-E12", NOON)
    changes, after = POLICY.replan(board, HN, now=NOON)
    assert [(v, a.outcome) for v, a in changes] == [("h1", Outcome.REFUSED)]
    assert "closed: HN-E12" in changes[0][1].reason
    assert after.place_of("h1") is None


def test_trucks_queued_on_a_bay_when_its_hours_end_are_moved() -> None:
    closing = datetime(2025, 6, 2, 15, 0, tzinfo=UTC)  # 22:00 local
    red = truck("red", 0, channel=CustomsChannel.RED)
    red_fruit = truck("red-fruit", 1, channel=CustomsChannel.RED, perishable=True)
    board = queue_on(Board.for_gate(HN), "HN-E9", red, red_fruit)

    changes, _ = POLICY.replan(board, HN, now=closing)

    moved = dict(changes)
    assert moved["red"].lane_id == "HN-E12"  # the hazmat lane inspects through the night
    assert moved["red"].reason.startswith("re-planned: lane HN-E9 closes at 22:00 -> red")
    assert moved["red-fruit"].lane_id == "HN-E9"  # no other lane takes it: waits for 06:00
    assert moved["red-fruit"].expected_start_at == closing + 8 * 60 * MIN


def _fleet_gate() -> Gate:
    lane = Lane(
        "A",
        "tiny",
        Direction.EXPORT,
        LaneKind.STANDARD,
        2 * MIN,
        accepts=frozenset({CargoClass.GENERAL, CargoClass.CONTAINER}),
        channels=frozenset({CustomsChannel.GREEN}),
    )
    fleet = CarrierFleet(
        carriers=(Carrier("AC-1", DailyHours()), Carrier("AC-2", DailyHours())),
        round_trip=20 * MIN,
        yard=TransferYard("yard", "yard", bays=2, handover=2 * MIN),
    )
    return Gate("tiny", "tiny", (), (lane,), utc_offset=LOCAL, fleet=fleet)


def test_a_carrier_outage_replans_the_trucks_promised_to_it() -> None:
    gate = _fleet_gate()
    board = queue_on(Board.for_gate(gate), "A", truck("jam", -10))
    board = board.truck_entered("jam", "A", NOON)
    board = queue_on(board, "A", *(truck(f"q{n}", -9 + n) for n in range(5)))  # lane: 12:12
    plan, board = POLICY.assign(truck("boxed", 0, containers=1), board, gate, now=NOON)
    assert plan.carrier_slot == "AC-1@12:02"

    board = board.carrier_out("AC-1", NOON + MIN)
    changes, after = POLICY.replan(board, gate, now=NOON + MIN)

    assert [v for v, _ in changes] == ["boxed"]
    again = changes[0][1]
    assert again.reason.startswith("re-planned: carrier AC-1 out of service -> green")
    assert again.carrier_slot == "AC-2@12:03"
    assert after.yard is not None and after.yard.queue[0].carrier_id == "AC-2"

    board = after.carrier_out("AC-2", NOON + 2 * MIN)
    changes, after = POLICY.replan(board, gate, now=NOON + 2 * MIN)
    assert changes[0][1].lane_id == "A"  # no carrier left: back to the lane
    assert changes[0][1].carrier_slot is None
    assert after.place_of("boxed") == "A"


def test_replanning_is_deterministic() -> None:
    board = queue_on(Board.for_gate(HN), "HN-E1", *(truck(f"t{n}", n) for n in range(6)))
    board = board.lane_closed("HN-E1", NOON)
    assert POLICY.replan(board, HN, now=NOON) == POLICY.replan(board, HN, now=NOON)


def _two_lanes() -> Gate:
    lanes = tuple(
        Lane(
            lane_id,
            "tiny",
            Direction.EXPORT,
            LaneKind.STANDARD,
            2 * MIN,
            accepts=frozenset({CargoClass.GENERAL}),
            channels=frozenset({CustomsChannel.GREEN}),
        )
        for lane_id in ("A", "B")
    )
    return Gate("tiny", "tiny", (), lanes, utc_offset=LOCAL)


def _waiting_behind(gate: Gate, busy_until: datetime) -> Board:
    """Lane A serving until `busy_until` with "next" queued; lane B idle (its truck left
    sooner than planned)."""
    board = Board.for_gate(gate)
    board = board.assigned(Queued(truck("slow", -20), busy_until - NOON, NOON, NOON), place="A")
    board = board.truck_entered("slow", "A", NOON)
    return board.assigned(Queued(truck("next", -1), 2 * MIN, NOON, NOON), place="A")


def test_a_truck_waiting_behind_a_busy_lane_is_called_to_an_idle_one() -> None:
    gate = _two_lanes()
    board = _waiting_behind(gate, NOON + 6 * MIN)

    changes, after = POLICY.rebalance(board, gate, now=NOON)

    assert [v for v, _ in changes] == ["next"]
    assert changes[0][1].lane_id == "B"
    assert changes[0][1].expected_done_at == NOON + 2 * MIN
    assert changes[0][1].reason.startswith(
        "re-planned: lane B is free, done 12:02 instead of 12:08 on A -> green"
    )
    assert after.place_of("next") == "B"


def test_no_call_forward_for_less_than_a_minute_saved() -> None:
    gate = _two_lanes()
    board = _waiting_behind(gate, NOON + 30 * timedelta(seconds=1))  # 12:02:30 on A, 12:02 on B
    assert POLICY.rebalance(board, gate, now=NOON) == ([], board)


NIGHT = datetime(2026, 2, 28, 18, 0, tzinfo=UTC)  # 01:00 local; the bays open at 06:00


def test_a_night_closure_elsewhere_leaves_the_bays_queue_waiting_for_their_opening() -> None:
    # Found replaying 2026-02-28 with HN-E1 and HN-E2 closed 02:00-05:00: the closure's
    # re-plan moved a red truck promised HN-E9 at 06:12 to HN-E10 at 06:12 ("re-planned:
    # lane HN-E9 closes at 02:00"): the bays closed at 22:00, the plan was made for 06:00
    board = Board.for_gate(HN)
    for n in range(5):
        red = truck(f"red{n}", 0, channel=CustomsChannel.RED, perishable=True)
        red = replace(red, arrived_at=NIGHT + n * MIN)
        plan, board = POLICY.assign(red, board, HN, now=NIGHT + n * MIN)
        assert plan.lane_id in ("HN-E9", "HN-E10", "HN-E11")
        assert plan.expected_start_at is not None and plan.expected_start_at >= NIGHT + 5 * 60 * MIN
    board = board.lane_closed("HN-E1", NIGHT + 60 * MIN)  # 02:00 local

    changes, _ = POLICY.replan(board, HN, now=NIGHT + 60 * MIN)

    assert changes == []


def test_a_truck_the_bays_hours_overtook_is_moved_at_a_night_replan() -> None:
    # planned for 21:50, still queued when the bay closed at 22:00: the hours ended before
    # it would start, so a re-plan at 02:00 moves it (to the hazmat lane, open all night)
    late = truck("late", 0, channel=CustomsChannel.RED)
    evening = NIGHT - 3 * 60 * MIN - 10 * MIN  # 21:50 local
    board = Board.for_gate(HN).assigned(
        Queued(late, 12 * MIN, evening, evening + 12 * MIN), place="HN-E9"
    )

    changes, _ = POLICY.replan(board, HN, now=NIGHT + 60 * MIN)

    moved = dict(changes)
    assert moved["late"].lane_id == "HN-E12"
    assert moved["late"].reason.startswith("re-planned: lane HN-E9 closes at 22:00 -> red")
