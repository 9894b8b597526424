"""OrchestratedPolicy.assign, rule by rule, on the default gate and on small hand-made ones."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from lanes.board import Board, Queued, Truck
from lanes.model import (
    ALWAYS,
    BookingStatus,
    CargoClass,
    Carrier,
    CarrierFleet,
    CustomsChannel,
    CustomsStatus,
    DailyHours,
    Direction,
    Gate,
    Lane,
    LaneKind,
    Manifest,
    Outcome,
    TransferYard,
)
from lanes.policy import OrchestratedPolicy, booking_status, truck_from_manifest
from services.gates.loader import get_gate

HN = get_gate("huu-nghi")
POLICY = OrchestratedPolicy()
MIN = timedelta(minutes=1)
LOCAL = timedelta(hours=7)


def local(hour: int, minute: int = 0) -> datetime:
    """2025-06-02 at this local (UTC+7) time, in UTC."""
    return datetime(2025, 6, 2, hour, minute, tzinfo=UTC) - LOCAL


NOON = local(12)

_GREEN = frozenset({CustomsChannel.GREEN})
_ALL = frozenset(CustomsChannel)
_GOODS = frozenset({CargoClass.GENERAL, CargoClass.CONTAINER, CargoClass.PERISHABLE})


def lane(
    lane_id: str,
    kind: LaneKind = LaneKind.STANDARD,
    minutes: float = 2,
    *,
    channels: frozenset[CustomsChannel] = _ALL,
    hours: DailyHours = ALWAYS,
) -> Lane:
    return Lane(
        lane_id, "tiny", Direction.EXPORT, kind, minutes * MIN, accepts=_GOODS,
        channels=channels, hours=hours,
    )  # fmt: skip


NEVER = DailyHours()  # as charging windows: never on charge


def fleet(*, capacity: int = 40, charging: DailyHours = NEVER, carriers: int = 2) -> CarrierFleet:
    """Carriers that never charge unless told (no charging windows: never on charge)."""
    return CarrierFleet(
        carriers=tuple(Carrier(f"AC-{n}", charging) for n in range(1, carriers + 1)),
        round_trip=20 * MIN,
        yard=TransferYard("yard", "yard", bays=2, handover=2 * MIN, capacity=capacity),
    )


def gate(*lanes: Lane, with_fleet: CarrierFleet | None = None) -> Gate:
    return Gate("tiny", "tiny", (), tuple(lanes), utc_offset=LOCAL, fleet=with_fleet)


def truck(
    visit_id: str = "t1",
    *,
    channel: CustomsChannel = CustomsChannel.GREEN,
    cargo: tuple[CargoClass, ...] = (CargoClass.GENERAL,),
    containers: int = 0,
    booking: BookingStatus = BookingStatus.WALK_IN,
    at: datetime = NOON,
) -> Truck:
    classes = set(cargo) | ({CargoClass.CONTAINER} if containers else set())
    if len(classes) > 1:
        classes.discard(CargoClass.GENERAL)
    return Truck(
        visit_id, Direction.EXPORT, at, channel, frozenset(classes), containers, booking, None
    )


def busy(board: Board, lane_id: str, until: datetime, *, ahead: int = 0) -> Board:
    """The lane serving a truck until `until`, with `ahead` more queued (2 min each)."""
    filler = truck(f"{lane_id}-0", at=NOON - 30 * MIN)
    board = board.assigned(Queued(filler, until - NOON, NOON, until), place=lane_id)
    board = board.truck_entered(filler.visit_id, lane_id, NOON)
    for n in range(1, ahead + 1):
        waiting = truck(f"{lane_id}-{n}", at=NOON - (30 - n) * MIN)
        board = board.assigned(Queued(waiting, 2 * MIN, NOON, NOON), place=lane_id)
    return board


# -- from a manifest ----------------------------------------------------------------------


def _manifest(**changes: Any) -> Manifest:
    base = {"manifest_id": "M-1", "firm_id": "f", "direction": Direction.IMPORT}
    return Manifest(tractor_plate="29H12345", **{**base, **changes})


def test_a_truck_from_its_manifest() -> None:
    seen = truck_from_manifest(
        "v-1",
        _manifest(containers=("MSKU1234565",), perishable=True),
        arrived_at=NOON,
        booking=BookingStatus.ON_TIME,
    )
    assert seen == Truck(
        "v-1",
        Direction.IMPORT,
        NOON,
        CustomsChannel.GREEN,
        frozenset({CargoClass.CONTAINER, CargoClass.PERISHABLE}),
        1,
        BookingStatus.ON_TIME,
        "M-1",
    )


def test_channels_and_cargo_from_the_manifest() -> None:
    def made(**changes: Any) -> Truck:
        found = truck_from_manifest("v", _manifest(**changes), arrived_at=NOON)
        assert found is not None
        return found

    assert (
        truck_from_manifest("v", _manifest(customs_status=CustomsStatus.PENDING), arrived_at=NOON)
        is None
    )
    assert made(customs_status=CustomsStatus.INSPECT).channel is CustomsChannel.RED
    assert made(customs_channel=CustomsChannel.YELLOW).channel is CustomsChannel.YELLOW
    assert made().cargo == {CargoClass.GENERAL}
    assert made().booking is BookingStatus.WALK_IN
    assert made(hazmat_class="3").cargo == {CargoClass.HAZMAT}


@pytest.mark.parametrize(
    ("minute", "status"),
    [
        (-5, BookingStatus.EARLY),
        (0, BookingStatus.ON_TIME),
        (59, BookingStatus.ON_TIME),
        (60, BookingStatus.LATE),
        (119, BookingStatus.LATE),  # up to 60 min after the slot's end keeps it
        (120, BookingStatus.WALK_IN),  # later: the slot is lost (GoSwift)
    ],
)
def test_booking_status_against_a_one_hour_slot(minute: int, status: BookingStatus) -> None:
    slot = local(10)
    assert booking_status(slot, slot + 60 * MIN, slot + minute * MIN) is status


def test_no_slot_is_a_walk_in() -> None:
    assert booking_status(None, None, NOON) is BookingStatus.WALK_IN


# -- routing on the default gate -------------------------------------------------------------


def test_green_truck_on_an_idle_gate_takes_a_standard_lane() -> None:
    assignment, board = POLICY.assign(truck(), Board.for_gate(HN), HN, now=NOON)

    assert assignment.outcome is Outcome.ASSIGNED
    assert assignment.lane_id == "HN-E1"
    service = HN.lanes[0].service_time  # HN-E1, a standard lane
    done = NOON + service
    local = f"{done + HN.utc_offset:%H:%M}"  # reasons speak the gate's local time
    assert (assignment.expected_start_at, assignment.expected_done_at) == (NOON, done)
    assert assignment.reason == (
        "green, walk-in, priority 2: green channel -> earliest completion -> standard lane "
        f"HN-E1, expected start 12:00 (0 ahead), done {local}; next best standard lane "
        f"HN-E2 done {local}"
    )
    assert board.place_of("t1") == "HN-E1"


def test_red_goes_to_an_inspection_bay() -> None:
    assignment, _ = POLICY.assign(
        truck(channel=CustomsChannel.RED), Board.for_gate(HN), HN, now=NOON
    )
    assert assignment.lane_id == "HN-E9"
    assert assignment.expected_done_at == NOON + 12 * MIN
    assert "red channel -> inspection bay" in assignment.reason


def test_red_at_night_takes_the_other_lane_that_inspects() -> None:
    night = local(2)
    red = truck(channel=CustomsChannel.RED, at=night)
    assignment, _ = POLICY.assign(red, Board.for_gate(HN), HN, now=night)
    assert assignment.lane_id == "HN-E12"  # the bays are shut 22:00-06:00
    assert "no inspection bay can serve it now" in assignment.reason


def test_red_fruit_at_night_waits_for_the_bays_to_open() -> None:
    night = local(2)
    red = truck(channel=CustomsChannel.RED, cargo=(CargoClass.PERISHABLE,), at=night)
    assignment, _ = POLICY.assign(red, Board.for_gate(HN), HN, now=night)
    assert assignment.lane_id == "HN-E9"  # the hazmat lane takes no perishables
    assert assignment.expected_start_at == local(6)


def test_a_bay_that_would_close_before_the_truck_is_done_is_not_eligible() -> None:
    late = local(21, 55)
    red = truck(channel=CustomsChannel.RED, at=late)
    assignment, _ = POLICY.assign(red, Board.for_gate(HN), HN, now=late)
    assert assignment.lane_id == "HN-E12"  # a bay would finish at 22:07, after closing


def test_when_every_place_closes_first_the_one_done_first_overruns() -> None:
    late = local(21, 55)
    red = truck(channel=CustomsChannel.RED, cargo=(CargoClass.PERISHABLE,), at=late)
    assignment, _ = POLICY.assign(red, Board.for_gate(HN), HN, now=late)
    assert assignment.lane_id == "HN-E9"  # done 22:07, not 06:12 tomorrow
    assert assignment.expected_done_at == late + 12 * MIN
    assert "none can finish before it closes" in assignment.reason


@pytest.mark.parametrize("channel", list(CustomsChannel))
def test_hazmat_goes_to_the_hazmat_lane_whatever_its_channel(channel: CustomsChannel) -> None:
    hazmat = truck(channel=channel, cargo=(CargoClass.HAZMAT,), containers=1)
    assignment, _ = POLICY.assign(hazmat, Board.for_gate(HN), HN, now=NOON)
    assert assignment.lane_id == "HN-E12"
    assert "hazmat -> lane taking hazmat" in assignment.reason


def test_yellow_goes_to_a_scanner() -> None:
    assignment, _ = POLICY.assign(
        truck(channel=CustomsChannel.YELLOW), Board.for_gate(HN), HN, now=NOON
    )
    assert assignment.lane_id == "HN-E7"
    assert "yellow channel -> lane that scans" in assignment.reason


def test_yellow_takes_another_lane_that_scans_when_it_is_done_sooner() -> None:
    board = busy(Board.for_gate(HN), "HN-E7", NOON + 10 * MIN, ahead=2)
    board = busy(board, "HN-E8", NOON + 10 * MIN, ahead=2)
    assignment, _ = POLICY.assign(truck(channel=CustomsChannel.YELLOW), board, HN, now=NOON)
    assert assignment.lane_id == "HN-E12"  # hazmat lane, 6 min: done 12:06, scanners 12:19


def test_perishable_hazmat_has_no_lane_and_is_refused() -> None:
    odd = truck(cargo=(CargoClass.HAZMAT, CargoClass.PERISHABLE))
    board = Board.for_gate(HN)
    assignment, after = POLICY.assign(odd, board, HN, now=NOON)
    assert assignment.outcome is Outcome.REFUSED
    assert assignment.lane_id is None
    assert "no open export lane takes it" in assignment.reason
    assert after == board


def test_closed_lanes_are_not_used_and_none_open_is_a_refusal() -> None:
    board = Board.for_gate(HN).lane_closed("HN-E12", NOON)
    hazmat = truck(cargo=(CargoClass.HAZMAT,))
    assignment, _ = POLICY.assign(hazmat, board, HN, now=NOON)
    assert assignment.outcome is Outcome.REFUSED
    assert "closed: HN-E12" in assignment.reason


# -- earliest completion, ties, hours, priorities (small gates) -------------------------------


def test_earliest_completion_not_shortest_queue() -> None:
    tiny = gate(lane("A", minutes=2), lane("B", minutes=2))
    board = busy(Board.for_gate(tiny), "A", NOON + 1 * MIN, ahead=2)  # 3 trucks, done 12:05
    board = busy(board, "B", NOON + 9 * MIN)  # 1 truck, none queued, free at 12:09

    assignment, _ = POLICY.assign(truck(), board, tiny, now=NOON)

    assert assignment.lane_id == "A"
    assert assignment.expected_start_at == NOON + 5 * MIN
    assert "(3 ahead)" in assignment.reason
    assert "next best standard lane B done 12:11" in assignment.reason


def test_ties_go_to_the_least_scarce_lane() -> None:
    tiny = gate(lane("I", LaneKind.INSPECTION), lane("S", LaneKind.SCANNER), lane("A"))
    assignment, _ = POLICY.assign(truck(), Board.for_gate(tiny), tiny, now=NOON)
    assert assignment.lane_id == "A"


def test_a_lane_closing_before_the_truck_is_done_is_not_eligible() -> None:
    closes = DailyHours(((time(6), time(12, 1)),))
    tiny = gate(lane("A", minutes=2, hours=closes), lane("B", minutes=5))
    assignment, _ = POLICY.assign(truck(), Board.for_gate(tiny), tiny, now=NOON)
    assert assignment.lane_id == "B"


def test_perishable_and_on_time_trucks_go_ahead_of_walk_ins() -> None:
    tiny = gate(lane("A", minutes=2))
    board = busy(Board.for_gate(tiny), "A", NOON + 2 * MIN)
    plan = {}
    for n, (booking, cargo) in enumerate(
        [
            (BookingStatus.WALK_IN, CargoClass.GENERAL),
            (BookingStatus.EARLY, CargoClass.GENERAL),
            (BookingStatus.WALK_IN, CargoClass.PERISHABLE),
            (BookingStatus.ON_TIME, CargoClass.GENERAL),
        ]
    ):
        arriving = truck(f"t{n}", cargo=(cargo,), booking=booking, at=NOON + n * MIN)
        assignment, board = POLICY.assign(arriving, board, tiny, now=NOON + n * MIN)
        plan[arriving.visit_id] = assignment

    assert [e.truck.visit_id for e in board.lane("A").queue] == ["t2", "t3", "t0", "t1"]
    assert "priority 1" in plan["t2"].reason and "priority 2" in plan["t1"].reason
    # the walk-in's plan was pushed back by the two that went ahead of it
    first = board.lane("A").queue[2]
    assert first.truck.visit_id == "t0"
    assert first.expected_start_at == NOON + 7 * MIN  # re-planned at 12:03: 2 x 2 min ahead
    assert plan["t0"].expected_start_at == NOON + 2 * MIN


def test_the_same_inputs_give_the_same_decision() -> None:
    board = busy(Board.for_gate(HN), "HN-E1", NOON + 3 * MIN, ahead=1)
    one = POLICY.assign(truck(containers=1), board, HN, now=NOON)
    two = POLICY.assign(truck(containers=1), board, HN, now=NOON)
    assert one == two
    assert board.place_of("t1") is None  # the input board is untouched


# -- autonomous carriers ------------------------------------------------------------------


def _jammed(**fleet_args: Any) -> tuple[Gate, Board]:
    """One green lane, busy for 30 minutes; a fleet with its yard."""
    tiny = gate(lane("A", minutes=2, channels=_GREEN), with_fleet=fleet(**fleet_args))
    return tiny, busy(Board.for_gate(tiny), "A", NOON + 30 * MIN)


def test_a_container_goes_by_carrier_when_that_is_done_sooner() -> None:
    tiny, board = _jammed()
    assignment, after = POLICY.assign(truck(containers=1), board, tiny, now=NOON)

    assert assignment.outcome is Outcome.ASSIGNED
    assert assignment.lane_id is None
    assert assignment.carrier_slot == "AC-1@12:02"
    assert assignment.expected_done_at == NOON + 2 * MIN  # the handover, not the trip
    assert "carrier slot AC-1 via yard yard" in assignment.reason
    assert "next best standard lane A done 12:32" in assignment.reason
    assert after.yard is not None
    assert after.yard.queue[0].carrier_id == "AC-1"


def test_no_carrier_when_the_lane_is_done_sooner() -> None:
    tiny = gate(lane("A", minutes=1.5, channels=_GREEN), with_fleet=fleet())
    assignment, _ = POLICY.assign(truck(containers=1), Board.for_gate(tiny), tiny, now=NOON)
    assert assignment.lane_id == "A"


def test_no_carrier_for_a_truck_without_containers_or_not_green() -> None:
    tiny, board = _jammed()
    assert POLICY.assign(truck(), board, tiny, now=NOON)[0].lane_id == "A"
    scanned = truck(containers=1, channel=CustomsChannel.YELLOW)
    assert POLICY.assign(scanned, board, tiny, now=NOON)[0].outcome is Outcome.REFUSED


def test_no_carrier_when_the_yard_is_full() -> None:
    tiny, board = _jammed(capacity=1)
    board = POLICY.assign(truck("first", containers=1), board, tiny, now=NOON)[1]
    assignment, _ = POLICY.assign(truck("second", containers=1), board, tiny, now=NOON)
    assert assignment.lane_id == "A"


def test_no_carrier_while_every_carrier_is_charging() -> None:
    tiny, board = _jammed(charging=DailyHours(((time(11), time(13)),)))
    assignment, _ = POLICY.assign(truck(containers=1), board, tiny, now=NOON)
    assert assignment.lane_id == "A"


def test_no_carrier_when_every_carrier_is_out_of_service() -> None:
    tiny, board = _jammed()
    board = board.carrier_out("AC-1", NOON).carrier_out("AC-2", NOON)
    assignment, _ = POLICY.assign(truck(containers=1), board, tiny, now=NOON)
    assert assignment.lane_id == "A"


def test_a_carrier_only_when_the_container_leaves_soon_enough() -> None:
    tiny, board = _jammed(carriers=1)
    for n in range(2):  # two containers already waiting: trips at 12:00 and 12:20
        board = board.assigned(Queued(truck(f"b{n}", containers=1), MIN, NOON, NOON), place="yard")
        board = board.truck_entered(f"b{n}", "yard", NOON).truck_left(f"b{n}", NOON)
    boxed = truck(containers=1)  # handed over by 12:02, leaves 12:40: 38 min in the yard
    fruit = truck(containers=1, cargo=(CargoClass.PERISHABLE,))

    assert POLICY.assign(boxed, board, tiny, now=NOON)[0].carrier_slot == "AC-1@12:40"
    assert POLICY.assign(fruit, board, tiny, now=NOON)[0].lane_id == "A"  # fruit: 20 min at most
