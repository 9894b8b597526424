"""Call-forward (issue 23): the waiting area in the gate file, and CallForwardPolicy: a truck
is called when its place is expected free by the time it drives up, priorities as today, a
called truck on its way holds its place, a no-show is recalled once and then loses its place
with the reason. Event time only."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from importlib import resources

import pytest

from lanes.board import Board, Queued, Truck
from lanes.decide import decide_with_board
from lanes.model import (
    Assignment,
    BookingStatus,
    CargoClass,
    CustomsChannel,
    DailyHours,
    Direction,
    Gate,
    Lane,
    LaneKind,
    Manifest,
    MatchOutcome,
    MatchResult,
    Visit,
    WaitingArea,
)
from lanes.policy import OrchestratedPolicy, Policy
from lanes.policy.callforward import (
    AreaQueue,
    CalledPlace,
    CallForwardPolicy,
    CallKind,
    PlaceLost,
    TruckCalled,
    assign_called,
)
from lanes.values import CustomsStatus
from services.gates.loader import GateConfigError, get_gate, parse_gate

MIN = timedelta(minutes=1)
T0 = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)  # 10:00 local (UTC+7)
POLICY = CallForwardPolicy()
AREA = WaitingArea(
    "w-exp", "Export waiting area", Direction.EXPORT, "t-exp-cam", capacity=50,
    drive_time=5 * MIN, call_lead=0 * MIN, arrival_grace=10 * MIN,
)  # fmt: skip
GOODS = frozenset({CargoClass.GENERAL, CargoClass.CONTAINER, CargoClass.PERISHABLE})


def gate(lanes: int = 1, minutes: float = 4) -> Gate:
    return Gate(
        "tiny",
        "Tiny gate",
        cameras=(),
        lanes=tuple(
            Lane(
                f"E{n + 1}",
                "tiny",
                Direction.EXPORT,
                LaneKind.STANDARD,
                minutes * MIN,
                accepts=GOODS,
                channels=frozenset(CustomsChannel),
            )
            for n in range(lanes)
        ),
        waiting_areas=(AREA,),
    )


def truck(n: int, *, at: datetime = T0, perishable: bool = False, on_time: bool = False) -> Truck:
    return Truck(
        visit_id=f"v{n}",
        direction=Direction.EXPORT,
        arrived_at=at + n * timedelta(seconds=1),
        channel=CustomsChannel.GREEN,
        cargo=frozenset({CargoClass.PERISHABLE if perishable else CargoClass.GENERAL}),
        containers=0,
        booking=BookingStatus.ON_TIME if on_time else BookingStatus.WALK_IN,
        manifest_id=f"m{n}",
    )


def waiting(g: Gate, *trucks: Truck) -> AreaQueue:
    queue = AreaQueue()
    for t in trucks:
        queue = queue.entered(t, AREA, t.arrived_at)
    return queue


def calls(events: list[PlaceLost | TruckCalled]) -> list[TruckCalled]:
    return [e for e in events if isinstance(e, TruckCalled)]


# -- the gate file ----------------------------------------------------------------------


def test_the_default_gate_has_a_waiting_area_each_direction() -> None:
    hn = get_gate("huu-nghi")
    areas = {a.direction: a for a in hn.waiting_areas}
    assert set(areas) == set(Direction)
    for direction, area in areas.items():
        camera = hn.camera(area.camera_id)
        assert camera is not None and camera.direction is direction
        assert area.capacity > 0 and area.drive_time > timedelta(0)
        assert hn.waiting_area(direction) is area


def _with_area(area: str) -> str:
    text = resources.files("services.gates").joinpath("huu-nghi.toml").read_text("utf-8")
    head = text.split("[[waiting_areas]]")[0]
    return head + area


def test_a_waiting_area_on_an_unknown_camera_is_refused_with_the_field() -> None:
    bad = _with_area(
        '[[waiting_areas]]\narea_id = "a"\nname = "A"\ndirection = "export"\n'
        'camera_id = "nope"\ncapacity = 10\ndrive_time_min = 5\n'
    )
    with pytest.raises(GateConfigError) as caught:
        parse_gate(bad, source="x.toml")
    line = bad.splitlines().index('camera_id = "nope"') + 1
    assert f"x.toml:{line}: waiting_areas[0].camera_id: no camera 'nope'" in str(caught.value)


def test_a_waiting_area_on_a_camera_of_the_other_direction_is_refused() -> None:
    bad = _with_area(
        '[[waiting_areas]]\narea_id = "a"\nname = "A"\ndirection = "export"\n'
        'camera_id = "hn-imp-approach-1"\ncapacity = 10\ndrive_time_min = 5\n'
    )
    with pytest.raises(GateConfigError, match=r"waiting_areas\[0\].camera_id: .*import camera"):
        parse_gate(bad, source="x.toml")


@pytest.mark.parametrize(
    ("camera", "role"),
    [("hn-exp-gate-1", "gate_in"), ("hn-exp-lane-1", "lane_entry"), ("hn-exp-exit-1", "exit")],
)
def test_a_waiting_area_on_a_camera_at_the_gate_is_refused(camera: str, role: str) -> None:
    """A read at an area's camera is a truck waiting there (not decided: the gate decides it
    when another camera of the gate reads it); at a gate-in camera it would wait and never
    be decided, at the exit it would never be queued. Taken until 2026-12-05 (a stranger's
    own gate file put its area at the gate's camera)."""
    bad = _with_area(
        '[[waiting_areas]]\narea_id = "a"\nname = "A"\ndirection = "export"\n'
        f'camera_id = "{camera}"\ncapacity = 10\ndrive_time_min = 5\n'
    )
    with pytest.raises(GateConfigError) as caught:
        parse_gate(bad, source="x.toml")
    line = bad.splitlines().index(f'camera_id = "{camera}"') + 1
    assert str(caught.value) == (
        f"x.toml:{line}: waiting_areas[0].camera_id: camera {camera!r} is a {role} camera: a "
        "waiting area's camera is an approach camera, ahead of the gate"
    )


def test_two_areas_of_one_direction_and_a_zero_capacity_are_refused() -> None:
    area = (
        '[[waiting_areas]]\narea_id = "{id}"\nname = "A"\ndirection = "export"\n'
        'camera_id = "hn-exp-approach-1"\ncapacity = {cap}\ndrive_time_min = 5\n'
    )
    with pytest.raises(GateConfigError, match=r"waiting_areas\[1\].direction: a second export"):
        parse_gate(_with_area(area.format(id="a", cap=5) + area.format(id="b", cap=5)), source="x")
    with pytest.raises(GateConfigError, match=r"waiting_areas\[0\].capacity"):
        parse_gate(_with_area(area.format(id="a", cap=0)), source="x")


def test_a_gate_file_without_waiting_areas_still_loads() -> None:
    g = parse_gate(_with_area(""), source="x.toml")
    assert g.waiting_areas == () and g.waiting_area(Direction.EXPORT) is None


# -- the policy -----------------------------------------------------------------------


def test_an_idle_lane_calls_the_first_truck_at_once_and_holds_the_lane_for_it() -> None:
    g = gate(lanes=1)
    queue = waiting(g, truck(1), truck(2))
    events, queue, board = POLICY.step(queue, Board.for_gate(g), g, now=T0)
    [call] = calls(events)
    assert call.visit_id == "v1" and call.lane_id == "E1" and call.kind is CallKind.CALL
    assert call.call_id == "v1/call-1"
    assert call.due_at == T0 + 5 * MIN and call.deadline == T0 + 15 * MIN
    assert call.expected_start_at == T0 + 5 * MIN  # the lane waits for it, not before
    assert "E1 expected free at" in call.reason
    assert board.place_of("v1") == "E1"
    # v2 would only start after v1 (at the gate at +5, 4 min): not called yet
    assert queue.position("v2") == 1 and queue.position("v1") is None


def test_the_next_truck_is_called_when_the_lane_is_expected_free_by_its_arrival() -> None:
    g = gate(lanes=1, minutes=4)
    queue = waiting(g, truck(1), truck(2))
    _, queue, board = POLICY.step(queue, Board.for_gate(g), g, now=T0)
    # v1 due at +5, 4 min of service: E1 expected free at +9; v2 drives 5 min
    events, queue, board = POLICY.step(queue, board, g, now=T0 + 3 * MIN)
    assert calls(events) == []
    events, queue, board = POLICY.step(queue, board, g, now=T0 + 4 * MIN)
    [call] = calls(events)
    assert call.visit_id == "v2" and call.expected_start_at == T0 + 9 * MIN


def test_a_call_lead_calls_earlier() -> None:
    g = replace(gate(lanes=1, minutes=4), waiting_areas=(replace(AREA, call_lead=2 * MIN),))
    queue = AreaQueue().entered(truck(1), g.waiting_areas[0], T0)
    queue = queue.entered(truck(2), g.waiting_areas[0], T0)
    _, queue, board = POLICY.step(queue, Board.for_gate(g), g, now=T0)
    events, _, _ = POLICY.step(queue, board, g, now=T0 + 2 * MIN)
    assert [c.visit_id for c in calls(events)] == ["v2"]


def test_the_lead_applies_only_while_as_many_trucks_wait_as_the_direction_has_lanes() -> None:
    # 2 lanes of 4 min, a 2-minute lead: v1 and v2 called at once (free lanes, at the gate
    # at +5, done +9); then a truck arriving at +9 is called at +4, or at +2 with the lead
    g = replace(gate(lanes=2, minutes=4), waiting_areas=(replace(AREA, call_lead=2 * MIN),))
    area = g.waiting_areas[0]
    _, queue, board = POLICY.step(waiting(g, truck(1), truck(2)), Board.for_gate(g), g, now=T0)
    alone = queue.entered(truck(3), area, T0 + MIN)  # 1 truck waiting, 2 lanes: no lead
    events, _, _ = POLICY.step(alone, board, g, now=T0 + 2 * MIN)
    assert calls(events) == []
    events, _, _ = POLICY.step(alone, board, g, now=T0 + 4 * MIN)
    assert [c.visit_id for c in calls(events)] == ["v3"]
    backlog = alone.entered(truck(4), area, T0 + MIN)  # 2 waiting, 2 lanes: the lead
    events, _, _ = POLICY.step(backlog, board, g, now=T0 + 2 * MIN)
    assert [c.visit_id for c in calls(events)] == ["v3", "v4"]


def test_perishable_and_on_time_trucks_are_called_first() -> None:
    g = gate(lanes=1)
    walk_in = truck(1)
    fruit = truck(2, perishable=True)
    booked = truck(3, on_time=True)
    queue = waiting(g, walk_in, fruit, booked)
    assert [queue.position(v) for v in ("v2", "v3", "v1")] == [1, 2, 3]
    events, _, _ = POLICY.step(queue, Board.for_gate(g), g, now=T0)
    assert [c.visit_id for c in calls(events)] == ["v2"]


def test_a_perishable_truck_is_not_called_into_the_place_a_called_truck_drives_up_to() -> None:
    # v1 (a walk-in) is called to the only lane; a perishable truck entering the area after
    # would go ahead of it on the board (priority), but v1 is already on its way: the lane
    # is expected free only once v1 is done (+5 at the gate, 4 min), not at once
    g = gate(lanes=1, minutes=4)
    _, queue, board = POLICY.step(waiting(g, truck(1)), Board.for_gate(g), g, now=T0)
    fruit = truck(2, at=T0 + MIN, perishable=True)
    queue = queue.entered(fruit, AREA, T0 + MIN)
    events, queue, board = POLICY.step(queue, board, g, now=T0 + MIN)
    assert calls(events) == []
    events, _, board = POLICY.step(queue, board, g, now=T0 + 4 * MIN)
    [call] = calls(events)
    assert call.visit_id == "v2" and call.expected_start_at == T0 + 9 * MIN
    # on the board itself the perishable truck keeps its service order
    assert [e.truck.visit_id for e in board.lane("E1").queue] == ["v2", "v1"]


def test_called_trucks_are_weighed_in_the_order_they_reach_the_gate() -> None:
    # on the board a perishable truck called later (due +7) is ahead of v1 (due +5); the
    # lane is expected free at +9 (v1 from +5 to +7, then v2 to +9), not at +11 (board
    # order: v2 from +7, then v1 behind it)
    g = gate(lanes=1, minutes=2)
    _, queue, board = POLICY.step(waiting(g, truck(1)), Board.for_gate(g), g, now=T0)
    fruit = truck(2, at=T0 + MIN, perishable=True)
    queue = queue.entered(fruit, AREA, T0 + MIN)
    _, queue, board = POLICY.step(queue, board, g, now=T0 + 2 * MIN)
    assert queue.find("v2") is not None and queue.find("v2").call is not None  # type: ignore[union-attr]
    queue = queue.entered(truck(3, at=T0 + 2 * MIN), AREA, T0 + 2 * MIN)
    events, _, _ = POLICY.step(queue, board, g, now=T0 + 4 * MIN)
    [call] = calls(events)
    assert call.visit_id == "v3" and call.expected_start_at == T0 + 9 * MIN


def test_several_idle_lanes_call_as_many_trucks() -> None:
    g = gate(lanes=3)
    queue = waiting(g, *(truck(n) for n in range(1, 6)))
    events, queue, _ = POLICY.step(queue, Board.for_gate(g), g, now=T0)
    assert sorted(c.lane_id or "" for c in calls(events)) == ["E1", "E2", "E3"]
    assert [queue.position(f"v{n}") for n in (4, 5)] == [1, 2]


def test_a_truck_not_at_the_gate_in_time_is_recalled_once_then_loses_its_place() -> None:
    g = gate(lanes=1)
    queue = waiting(g, truck(1))
    _, queue, board = POLICY.step(queue, Board.for_gate(g), g, now=T0)
    events, queue, board = POLICY.step(queue, board, g, now=T0 + 14 * MIN)
    assert events == []  # before its deadline (+15)
    events, queue, board = POLICY.step(queue, board, g, now=T0 + 15 * MIN)
    recall = calls(events)[0]
    assert (recall.visit_id, recall.kind, recall.call_id) == ("v1", CallKind.RECALL, "v1/call-2")
    assert recall.deadline == T0 + 30 * MIN and board.place_of("v1") == "E1"
    events, queue, board = POLICY.step(queue, board, g, now=T0 + 30 * MIN)
    [lost] = [e for e in events if isinstance(e, PlaceLost)]
    assert lost.visit_id == "v1" and lost.last_call_id == "v1/call-2"
    assert "called at 10:00 and recalled at 10:15, not at the gate by 10:30" in lost.reason
    assert lost.deadline == T0 + 30 * MIN  # the recall's, missed
    assert queue.find("v1") is None and board.place_of("v1") is None
    # the lane it held goes to the next truck
    queue = queue.entered(truck(2, at=T0 + 30 * MIN), AREA, T0 + 30 * MIN)
    events, queue, board = POLICY.step(queue, board, g, now=T0 + 30 * MIN)
    assert [c.visit_id for c in calls(events)] == ["v2"]


def test_a_truck_that_reached_the_gate_is_not_recalled() -> None:
    g = gate(lanes=1)
    queue = waiting(g, truck(1))
    _, queue, board = POLICY.step(queue, Board.for_gate(g), g, now=T0)
    queue = queue.left("v1")  # read at the gate
    events, _, board = POLICY.step(queue, board, g, now=T0 + 60 * MIN)
    assert events == [] and board.place_of("v1") == "E1"


def test_the_same_inputs_give_the_same_calls_whatever_the_entry_order() -> None:
    g = gate(lanes=2)
    trucks = [truck(n, perishable=n % 3 == 0) for n in range(1, 8)]
    a = POLICY.step(waiting(g, *trucks), Board.for_gate(g), g, now=T0)
    b = POLICY.step(waiting(g, *reversed(trucks)), Board.for_gate(g), g, now=T0)
    assert a == b


def test_a_direction_without_an_area_calls_nobody() -> None:
    g = replace(gate(), waiting_areas=())
    queue = waiting(gate(), truck(1))
    events, _, _ = POLICY.step(queue, Board.for_gate(g), g, now=T0)
    assert events == []


def test_a_truck_is_not_called_to_a_lane_out_of_its_hours_when_it_would_be_there() -> None:
    # the only lane closes at 10:03 local; a truck called at 10:00 is there at 10:05: it
    # would wait at the barrier all night (the bays at 22:00), so it waits in the area
    g = gate(lanes=1)
    g = replace(g, lanes=(replace(g.lanes[0], hours=DailyHours(((time(6), time(10, 3)),))),))
    events, queue, _ = POLICY.step(waiting(g, truck(1)), Board.for_gate(g), g, now=T0)
    assert calls(events) == [] and queue.position("v1") == 1
    open_then = replace(g, lanes=(replace(g.lanes[0], hours=DailyHours(((time(6), time(11)),))),))
    events, _, _ = POLICY.step(waiting(g, truck(1)), Board.for_gate(g), open_then, now=T0)
    assert [c.lane_id for c in calls(events)] == ["E1"]


def _called_to_both_lanes() -> tuple[Gate, AreaQueue, Board]:
    """2 lanes of 4 min: v1 called to E1, v2 to E2, both at the gate by +5; then a walk-in
    x (a truck of no area) takes E1 before v1 is there and overruns."""
    g = gate(lanes=2, minutes=4)
    _, queue, board = POLICY.step(waiting(g, truck(1), truck(2)), Board.for_gate(g), g, now=T0)
    assert (board.place_of("v1"), board.place_of("v2")) == ("E1", "E2")
    x = truck(9, at=T0 - 10 * MIN)
    board = board.assigned(Queued(x, 4 * MIN, T0, T0 + 4 * MIN), place="E1")
    board = board.truck_entered("v9", "E1", T0 + 2 * MIN)
    return g, queue, board


def test_a_truck_at_the_gate_whose_lane_is_busy_takes_a_lane_free_now() -> None:
    g, queue, board = _called_to_both_lanes()
    # v1 at the gate at +5: E1 busy (x until +6); E2 idle, its v2 still driving
    queue, board, moved = POLICY.at_gate("v1", queue, board, g, now=T0 + 5 * MIN)
    assert moved == "E2" and board.place_of("v1") == "E2"
    assert queue.find("v1") is None and queue.find("v2") is not None
    entry = board.queued_entry("v1")
    assert entry is not None and entry[1].expected_start_at == T0 + 5 * MIN
    assert board.place_of("v2") == "E2"  # v2 keeps its call; at the gate, E1 may be free


def test_a_truck_at_the_gate_whose_lane_is_free_keeps_it() -> None:
    g = gate(lanes=2, minutes=4)
    _, queue, board = POLICY.step(waiting(g, truck(1), truck(2)), Board.for_gate(g), g, now=T0)
    queue, board, moved = POLICY.at_gate("v1", queue, board, g, now=T0 + 5 * MIN)
    assert moved is None and board.place_of("v1") == "E1" and queue.find("v1") is None


def test_a_truck_at_the_gate_does_not_take_a_lane_where_a_truck_at_the_gate_waits() -> None:
    g, queue, board = _called_to_both_lanes()
    queue = queue.left("v2")  # v2 is at the gate too, first for E2
    _, board, moved = POLICY.at_gate("v1", queue, board, g, now=T0 + 5 * MIN)
    assert moved is None and board.place_of("v1") == "E1"


def test_a_truck_at_the_gate_is_not_sent_to_a_slower_lane() -> None:
    # E2 takes 12 min: done at +17 there, at +10 when E1 is free at +6
    g, queue, board = _called_to_both_lanes()
    slow = replace(g, lanes=(g.lanes[0], replace(g.lanes[1], service_time=12 * MIN)))
    _, board, moved = POLICY.at_gate("v1", queue, board, slow, now=T0 + 5 * MIN)
    assert moved is None and board.place_of("v1") == "E1"


def test_a_truck_at_the_gate_with_no_free_lane_keeps_its_place() -> None:
    g, queue, board = _called_to_both_lanes()
    y = truck(8, at=T0 - 10 * MIN)
    board = board.assigned(Queued(y, 4 * MIN, T0, T0 + 4 * MIN), place="E2")
    board = board.truck_entered("v8", "E2", T0 + 3 * MIN)
    _, board, moved = POLICY.at_gate("v1", queue, board, g, now=T0 + 5 * MIN)
    assert moved is None and board.place_of("v1") == "E1"


# -- the gate's decider places a called truck where the call sent it (assign_called) ------


def _called(lane: str, at: datetime = T0) -> CalledPlace:
    return CalledPlace("m1", lane, "wa-1/call-1", at, at + 15 * MIN)


def test_the_gate_sends_a_called_truck_to_the_lane_it_was_called_to() -> None:
    # two idle lanes: the policy alone takes E1 (the first); the call named E2
    g = gate(lanes=2)
    board = Board.for_gate(g)
    alone, _ = OrchestratedPolicy().assign(truck(1), board, g, now=T0 + 5 * MIN)
    assert alone.lane_id == "E1"
    placed = assign_called(
        _called("E2"), truck(1), board, g, now=T0 + 5 * MIN, lanes=OrchestratedPolicy()
    )
    assert placed is not None
    assignment, after = placed
    assert assignment.lane_id == "E2" and after.place_of("v1") == "E2"
    assert assignment.reason.startswith("called at 10:00 to E2: ")
    assert assignment.expected_start_at == T0 + 5 * MIN


def test_a_called_truck_whose_lane_is_busy_is_waved_to_a_free_one_as_at_gate() -> None:
    g = gate(lanes=2, minutes=4)
    x = truck(9, at=T0 - 10 * MIN)
    board = Board.for_gate(g).assigned(Queued(x, 4 * MIN, T0, T0 + 4 * MIN), place="E2")
    board = board.truck_entered("v9", "E2", T0 + 3 * MIN)  # E2 busy until +7
    placed = assign_called(
        _called("E2"), truck(1), board, g, now=T0 + 5 * MIN, lanes=OrchestratedPolicy()
    )
    assert placed is not None
    assignment, after = placed
    assert assignment.lane_id == "E1" and after.place_of("v1") == "E1"
    assert "called at 10:00 to E2, which is not free" in assignment.reason
    # no free lane: it waits for E2, the lane it was called to
    y = truck(8, at=T0 - 10 * MIN)
    board = board.assigned(Queued(y, 4 * MIN, T0, T0 + 4 * MIN), place="E1")
    board = board.truck_entered("v8", "E1", T0 + 4 * MIN)
    placed = assign_called(
        _called("E2"), truck(1), board, g, now=T0 + 5 * MIN, lanes=OrchestratedPolicy()
    )
    assert placed is not None and placed[0].lane_id == "E2"
    assert placed[0].expected_start_at == T0 + 7 * MIN


def test_a_call_to_a_lane_closed_since_or_unknown_leaves_the_truck_to_the_policy() -> None:
    g = gate(lanes=2)
    closed = Board.for_gate(g).lane_closed("E2", T0 + MIN)
    lanes = OrchestratedPolicy()
    assert assign_called(_called("E2"), truck(1), closed, g, now=T0 + 5 * MIN, lanes=lanes) is None
    board = Board.for_gate(g)
    assert assign_called(_called("I9"), truck(1), board, g, now=T0 + 5 * MIN, lanes=lanes) is None


def test_the_decision_of_a_called_truck_names_its_lane_while_the_call_holds() -> None:
    g = gate(lanes=2)
    manifest = Manifest(
        "m1", "firm", Direction.EXPORT, "29H12345", customs_status=CustomsStatus.CLEARED
    )
    visit = Visit("v1", "tiny", Direction.EXPORT, "29H12345", T0 + 5 * MIN, T0 + 5 * MIN, ("r1",))
    match = MatchResult(MatchOutcome.MATCHED, manifest, 1.0, "exact")
    board = Board.for_gate(g)

    def lane(called: CalledPlace | None, now: datetime, policy: Policy) -> str | None:
        decision, _ = decide_with_board(
            replace(visit, first_seen_at=now, last_seen_at=now),
            match,
            gate=g,
            board=board,
            policy=policy,
            now=now,
            called=called,
        )
        return decision.lane_id

    orchestrated = OrchestratedPolicy()
    assert lane(None, T0 + 5 * MIN, orchestrated) == "E1"
    assert lane(_called("E2"), T0 + 5 * MIN, orchestrated) == "E2"
    # called after the truck was seen, or long past its deadline: not this truck's call
    assert lane(_called("E2", at=T0 + 6 * MIN), T0 + 5 * MIN, orchestrated) == "E1"
    assert lane(_called("E2"), T0 + 50 * MIN, orchestrated) == "E1"
    # a what-if of another policy places it by that policy
    assert lane(_called("E2"), T0 + 5 * MIN, _Another()) == "E1"


class _Another:
    """A policy other than the orchestrated one (it places trucks as the orchestrated one
    would, but is not it)."""

    def __init__(self) -> None:
        self.inner = OrchestratedPolicy()

    def assign(
        self, truck: Truck, board: Board, gate: Gate, *, now: datetime
    ) -> tuple[Assignment, Board]:
        return self.inner.assign(truck, board, gate, now=now)

    def replan(
        self, board: Board, gate: Gate, *, now: datetime
    ) -> tuple[list[tuple[str, Assignment]], Board]:
        return self.inner.replan(board, gate, now=now)
