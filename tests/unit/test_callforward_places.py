"""Call-forward (issue 23): which lanes a call weighs (the least scarce kind that takes the
truck, while the area has no backlog) and how many trucks an early call may leave waiting at
the barriers of one kind of lane (`BARRIER_BUFFER`). Pure domain, event time only."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from lanes.board import Board, Truck
from lanes.model import (
    BookingStatus,
    CargoClass,
    CustomsChannel,
    Direction,
    Gate,
    Lane,
    LaneKind,
)
from lanes.policy.callforward import AreaQueue, CallForwardPolicy, TruckCalled
from lanes.policy.callplaces import (
    BARRIER_BUFFER,
    at_barrier,
    backlogged,
    lane_kind,
    own_kind,
)
from tests.unit.test_callforward import AREA, GOODS, MIN, T0

POLICY = CallForwardPolicy()
GREEN, YELLOW, RED = CustomsChannel.GREEN, CustomsChannel.YELLOW, CustomsChannel.RED


def lane(lane_id: str, kind: LaneKind, channels: set[CustomsChannel]) -> Lane:
    return Lane(
        lane_id, "tiny", Direction.EXPORT, kind, 4 * MIN, accepts=GOODS,
        channels=frozenset(channels),
    )  # fmt: skip


STANDARD = lane("E1", LaneKind.STANDARD, {GREEN})
SCANNER = lane("E2", LaneKind.SCANNER, {GREEN, YELLOW})


def gate(*lanes: Lane, lead: timedelta = 0 * MIN) -> Gate:
    return Gate(
        "tiny",
        "Tiny gate",
        cameras=(),
        lanes=lanes or (STANDARD, SCANNER),
        waiting_areas=(replace(AREA, call_lead=lead),),
    )


def truck(n: int, channel: CustomsChannel = GREEN, *, at: datetime = T0) -> Truck:
    return Truck(
        visit_id=f"v{n}",
        direction=Direction.EXPORT,
        arrived_at=at + n * timedelta(seconds=1),
        channel=channel,
        cargo=frozenset({CargoClass.GENERAL}),
        containers=0,
        booking=BookingStatus.WALK_IN,
        manifest_id=f"m{n}",
    )


def called(events: list[object]) -> list[tuple[str, str | None]]:
    return [(e.visit_id, e.lane_id) for e in events if isinstance(e, TruckCalled)]


def test_own_kind_keeps_the_least_scarce_lanes_that_take_the_truck() -> None:
    g = gate()
    board = own_kind(Board.for_gate(g), g, truck(1), now=T0)
    assert board.lane("E1").is_open and not board.lane("E2").is_open
    # a yellow truck: the scanner is the only lane that takes it, nothing closed
    board = own_kind(Board.for_gate(g), g, truck(2, YELLOW), now=T0)
    assert board.lane("E1").is_open and board.lane("E2").is_open
    # a red truck is left to the orchestrated rule (inspection bays first)
    board = own_kind(Board.for_gate(g), g, truck(3, RED), now=T0)
    assert board.lane("E2").is_open


def test_own_kind_leaves_the_board_when_no_lane_of_the_truck_kind_is_open() -> None:
    g = gate()
    closed = Board.for_gate(g).lane_closed("E1", T0)
    board = own_kind(closed, g, truck(1), now=T0)
    assert board.lane("E2").is_open  # the scanner stays: a green truck is not stranded


def test_without_a_backlog_a_green_truck_waits_for_a_standard_lane_not_the_scanner() -> None:
    # v1 is called to the standard lane (at the gate at +5, done +9); v2, green, would be
    # done first at the idle scanner, but the scanner is kept for the yellow truck v3:
    # v2 is called at +4 for the standard lane, v3 at once to the scanner
    g = gate()
    queue = AreaQueue().entered(truck(1), g.waiting_areas[0], T0)
    events, queue, board = POLICY.step(queue, Board.for_gate(g), g, now=T0)
    assert called(events) == [("v1", "E1")]
    queue = queue.entered(truck(2, at=T0 + MIN), g.waiting_areas[0], T0 + MIN)
    events, queue, board = POLICY.step(queue, board, g, now=T0 + MIN)
    assert called(events) == []
    queue = queue.entered(truck(3, YELLOW, at=T0 + MIN), g.waiting_areas[0], T0 + MIN)
    events, queue, board = POLICY.step(queue, board, g, now=T0 + MIN)
    assert called(events) == [("v3", "E2")]
    events, _, _ = POLICY.step(queue, board, g, now=T0 + 4 * MIN)
    assert called(events) == [("v2", "E1")]


def test_with_a_backlog_a_green_truck_may_be_called_to_the_scanner() -> None:
    # as many trucks waiting as lanes: throughput first, the earliest place of any kind
    g = gate(lead=2 * MIN)
    area = g.waiting_areas[0]
    queue = AreaQueue()
    for n in (1, 2, 3):
        queue = queue.entered(truck(n), area, T0)
    events, _, _ = POLICY.step(queue, Board.for_gate(g), g, now=T0)
    assert ("v2", "E2") in called(events)


def test_an_early_call_leaves_at_most_the_buffer_waiting_at_the_barriers_of_a_kind() -> None:
    # one lane of 4 min, a 20-minute lead, six trucks waiting (a backlog): v1 is called to
    # the idle lane, then v2, v3, v4 early (at the gate at +5 behind 0, 1, 2 trucks
    # waiting); v5 would be the fourth truck waiting at the barrier: not called
    g = gate(STANDARD, lead=20 * MIN)
    queue = AreaQueue()
    for n in range(1, 7):
        queue = queue.entered(truck(n), g.waiting_areas[0], T0)
    events, _, _ = POLICY.step(queue, Board.for_gate(g), g, now=T0)
    assert BARRIER_BUFFER == 3
    assert [v for v, _ in called(events)] == ["v1", "v2", "v3", "v4"]


def test_at_barrier_counts_trucks_there_and_not_started() -> None:
    # four trucks queued at an idle 4-minute lane: at +5, v1 and v2 have started (at 0 and
    # +4), v3 and v4 wait at the barrier; if v4 is still driving (due +10), only v3
    g = gate(STANDARD)
    board = Board.for_gate(g)
    for n in range(1, 5):
        _, board = POLICY.lanes.assign(truck(n), board, g, now=T0)
    at = T0 + 5 * MIN
    assert at_barrier(board, g, STANDARD, {}, now=T0, at=at, besides="v9") == 2
    assert at_barrier(board, g, STANDARD, {"v4": T0 + 10 * MIN}, now=T0, at=at, besides="v9") == 1
    assert at_barrier(board, g, STANDARD, {}, now=T0, at=at, besides="v3") == 1


BAY = Lane(
    "B1", "tiny", Direction.EXPORT, LaneKind.INSPECTION, 12 * MIN, accepts=GOODS,
    channels=frozenset({GREEN, YELLOW, RED}),
)  # fmt: skip


def test_a_truck_waiting_for_a_busy_kind_of_lane_is_called_with_the_lead() -> None:
    # one standard lane (4 min) and two inspection bays, a 2-minute lead: v1 is called to the
    # idle E1 (at the gate at +5, done +9); v2, green, waits alone for E1. The standard lane
    # has a backlog (1 truck waiting, 1 lane), so v2 is called at +2 with the lead and is at
    # the barrier at +7: if v1 is done early, at +8, v2 takes E1 then. Before (2026-12-06)
    # the backlog was the area's trucks against the direction's 3 lanes (1 < 3: no lead):
    # v2 was called at +4, at the gate at +9, and E1, free at +8, stood idle for a minute.
    g = gate(STANDARD, BAY, replace(BAY, lane_id="B2"), lead=2 * MIN)
    area = g.waiting_areas[0]
    queue = AreaQueue().entered(truck(1), area, T0)
    events, queue, board = POLICY.step(queue, Board.for_gate(g), g, now=T0)
    assert called(events) == [("v1", "E1")]
    queue = queue.entered(truck(2, at=T0 + MIN), area, T0 + MIN)
    events, queue, board = POLICY.step(queue, board, g, now=T0 + 2 * MIN)
    [call] = [e for e in events if isinstance(e, TruckCalled)]
    assert (call.visit_id, call.lane_id) == ("v2", "E1")
    assert call.due_at == T0 + 7 * MIN and call.expected_start_at == T0 + 9 * MIN


def test_the_backlog_is_counted_per_kind_of_lane() -> None:
    # two standard lanes and two bays: three red trucks wait for the bays (a backlog there),
    # one green truck for the two standard lanes (none there): the green truck gets no lead
    # from the red trucks' backlog, as it did when the area's 4 trucks were weighed against
    # the direction's 4 lanes
    g = gate(STANDARD, replace(STANDARD, lane_id="E3"), BAY, replace(BAY, lane_id="B2"))
    board = Board.for_gate(g)
    kinds = [lane_kind(t, board, g, now=T0) for t in (truck(1, RED), truck(2, RED), truck(3))]
    assert kinds == [LaneKind.INSPECTION, LaneKind.INSPECTION, LaneKind.STANDARD]
    assert backlogged([*kinds, LaneKind.INSPECTION], board, g, Direction.EXPORT, now=T0) == {
        LaneKind.INSPECTION
    }
    assert backlogged([*kinds, LaneKind.STANDARD], board, g, Direction.EXPORT, now=T0) == {
        LaneKind.INSPECTION,
        LaneKind.STANDARD,
    }
    # the bays closed (out of their hours, or closed by a controller): red trucks are for
    # the scarcest kind still open that takes them, and a closed kind has no backlog
    closed = board.lane_closed("B1", T0).lane_closed("B2", T0)
    assert lane_kind(truck(1, RED), closed, g, now=T0) is None
    assert backlogged(kinds, closed, g, Direction.EXPORT, now=T0) == frozenset()
