"""Controller actions in the domain (lanes/actions.py): the same rules as automatic decisions,
a revision of the decision for every change, and a precise refusal naming the field."""

from __future__ import annotations

import pytest

from lanes.actions import (
    ActionRefused,
    Applied,
    UnknownTarget,
    carrier_change_allowed,
    hold,
    lane_change_allowed,
    lanes_to_move_to,
    place_with_manifest,
    queued_truck,
    reassign,
)
from lanes.board import Board
from lanes.decide import decide_with_board
from lanes.model import CustomsStatus, Direction, LaneDecision, Manifest, Outcome
from lanes.policy import OrchestratedPolicy
from services.gates.loader import get_gate
from tests.unit.factories import at, manifest, matched, visit

HUU_NGHI = get_gate("huu-nghi")
POLICY = OrchestratedPolicy()
NOW = at(2)


def _busy_gate(trucks: int = 30) -> tuple[list[LaneDecision], Board]:
    """Export trucks decided one after the other: the later ones wait in queues."""
    board = Board.for_gate(HUU_NGHI)
    decisions = []
    for n in range(trucks):
        decision, board = decide_with_board(
            visit(visit_id=f"v-{n}"),
            matched(manifest(f"M-{n}")),
            gate=HUU_NGHI,
            board=board,
            policy=POLICY,
            now=at(1),
        )
        decisions.append(decision)
    return decisions, board


def _queued(decisions: list[LaneDecision], board: Board) -> LaneDecision:
    return next(d for d in decisions if board.queued_entry(d.visit_id) is not None)


def test_a_queued_truck_moves_to_an_open_lane_of_its_direction_as_a_revision() -> None:
    decisions, board = _busy_gate()
    decision = _queued(decisions, board)
    target = next(
        lane.lane_id
        for lane in HUU_NGHI.lanes_for(Direction.EXPORT)
        if lane.kind == "standard" and lane.lane_id != decision.lane_id
    )
    applied = reassign(decision, target, gate=HUU_NGHI, board=board, what="by ana", now=NOW)
    assert applied.decision.lane_id == target
    assert applied.decision.revision == decision.revision + 1
    assert applied.decision.decision_id != decision.decision_id
    assert applied.decision.reason.startswith("by ana -> ")
    assert queued_truck(applied.board, decision.visit_id)[0] == target
    assert applied.board.queued_entry(decision.visit_id) is not None


def test_reassignments_the_rules_forbid_are_refused_naming_the_lane() -> None:
    decisions, board = _busy_gate()
    decision = _queued(decisions, board)
    assert decision.lane_id is not None
    other = next(
        lane.lane_id
        for lane in HUU_NGHI.lanes_for(Direction.EXPORT)
        if lane.kind == "standard" and lane.lane_id != decision.lane_id
    )
    closed = board.lane_closed(other, at(1))
    cases = {
        "HN-I1": "lane_id: HN-I1 is an import lane; the truck is export",
        "HN-X9": "lane_id: gate 'huu-nghi' has no lane 'HN-X9'",
        decision.lane_id: f"lane_id: the truck is already on {decision.lane_id}",
    }
    for lane_id, message in cases.items():
        with pytest.raises(ActionRefused) as refused:
            reassign(decision, lane_id, gate=HUU_NGHI, board=board, what="x", now=NOW)
        assert str(refused.value) == message
    with pytest.raises(ActionRefused) as refused:
        reassign(decision, other, gate=HUU_NGHI, board=closed, what="x", now=NOW)
    assert str(refused.value) == f"lane_id: {other} is closed"


def test_a_lane_or_carrier_the_gate_has_not_is_unknown_not_a_conflict() -> None:
    """Not found (404 in the control room, as an unknown visit), not a refusal of the rules
    (409): an unknown lane answered 409 where an unknown visit answered 404."""
    decisions, board = _busy_gate()
    decision = _queued(decisions, board)
    with pytest.raises(UnknownTarget, match=r"^lane_id: gate 'huu-nghi' has no lane 'HN-X9'$"):
        reassign(decision, "HN-X9", gate=HUU_NGHI, board=board, what="x", now=NOW)
    for open_it in (True, False):
        with pytest.raises(UnknownTarget, match=r"^lane_id: gate 'huu-nghi' has no lane 'HN-Z1'$"):
            lane_change_allowed("HN-Z1", gate=HUU_NGHI, board=board, open_it=open_it)
    for back in (True, False):
        with pytest.raises(UnknownTarget, match=r"^carrier_id: gate 'huu-nghi' has no carrier"):
            carrier_change_allowed("C-NONE", board=board, back=back)


def test_a_truck_in_service_or_unknown_cannot_move() -> None:
    decisions, board = _busy_gate()
    first = decisions[0]
    assert first.lane_id is not None
    board = board.truck_entered(first.visit_id, first.lane_id, at(1.5))
    with pytest.raises(ActionRefused, match="is in service; it can no longer move"):
        reassign(first, "HN-E3", gate=HUU_NGHI, board=board, what="x", now=NOW)
    with pytest.raises(ActionRefused, match="is not queued at the gate"):
        queued_truck(board, "v-nowhere")


def test_a_held_truck_leaves_its_queue_and_goes_to_review() -> None:
    decisions, board = _busy_gate()
    decision = _queued(decisions, board)
    applied = hold(decision, board=board, what="held by ana", now=NOW)
    assert applied.decision.outcome is Outcome.NEEDS_REVIEW
    assert applied.decision.lane_id is None
    assert applied.decision.revision == decision.revision + 1
    assert applied.board.place_of(decision.visit_id) is None


def test_picking_a_manifest_places_the_truck_by_the_policy() -> None:
    board = Board.for_gate(HUU_NGHI)
    review, board = decide_with_board(
        visit(visit_id="v-r"),
        matched(manifest("M-r", customs_status=CustomsStatus.PENDING)),
        gate=HUU_NGHI,
        board=board,
        policy=POLICY,
        now=at(1),
    )
    assert review.outcome is not Outcome.ASSIGNED

    def place(manifest_: Manifest, what: str, plate: str | None = None) -> Applied:
        return place_with_manifest(
            review,
            manifest_,
            arrived_at=at(0),
            gate=HUU_NGHI,
            board=board,
            policy=POLICY,
            what=what,
            now=NOW,
            plate=plate,
        )

    with pytest.raises(ActionRefused, match="is not cleared by customs"):
        place(manifest("M-r", customs_status=CustomsStatus.PENDING), "x")
    applied = place(manifest("M-2"), "picked by ana")
    assert applied.decision.outcome is Outcome.ASSIGNED
    assert applied.decision.manifest_id == "M-2"
    assert applied.decision.lane_id in {
        lane.lane_id for lane in HUU_NGHI.lanes_for(Direction.EXPORT)
    }
    assert applied.board.place_of("v-r") == applied.decision.lane_id
    assert applied.decision.plate == review.plate  # picking a manifest keeps the camera's
    confirmed = place(manifest("M-2"), "plate 29H12345 confirmed by ana", plate="29H12345")
    assert confirmed.decision.plate == "29H12345"  # the plate as the controller read it


def test_opening_an_open_lane_or_an_unknown_one_is_refused() -> None:
    board = Board.for_gate(HUU_NGHI)
    with pytest.raises(ActionRefused, match="lane_id: HN-E1 is already open"):
        lane_change_allowed("HN-E1", gate=HUU_NGHI, board=board, open_it=True)
    with pytest.raises(ActionRefused, match="has no lane 'HN-Z1'"):
        lane_change_allowed("HN-Z1", gate=HUU_NGHI, board=board, open_it=False)
    lane_change_allowed("HN-E1", gate=HUU_NGHI, board=board, open_it=False)  # allowed


def test_the_lanes_offered_for_a_move_are_those_reassign_accepts() -> None:
    """The control room's "Move…" lists `lanes_to_move_to` (a stranger's try: it offered
    every open lane of the direction, and the first one was refused): on an open board they
    are exactly the lanes `reassign` does not refuse."""
    decisions, board = _busy_gate()
    decision = _queued(decisions, board)
    place, entry = queued_truck(board, decision.visit_id)
    truck = entry.truck
    accepted = set()
    for lane in HUU_NGHI.lanes:
        try:
            reassign(decision, lane.lane_id, gate=HUU_NGHI, board=board, what="by ana", now=NOW)
        except ActionRefused:
            continue
        accepted.add(lane.lane_id)
    offered = lanes_to_move_to(place, gate=HUU_NGHI, cargo=truck.cargo, channel=truck.channel)
    assert set(offered) == accepted and place not in offered


def test_an_assigned_truck_is_not_placed_again_once_served() -> None:
    """Two controllers released the same held truck (found in the control room): the
    second release came after the first one's truck had been served and had left the board,
    and it placed the truck on a lane again, a second 'assigned' revision for a truck that
    had gone through. Now an assigned visit is refused whether its truck is on the board or
    not, and the refusal says where it went and who placed it."""
    board = Board.for_gate(HUU_NGHI)
    review, board = decide_with_board(
        visit(visit_id="v-h"),
        matched(manifest("M-h", customs_status=CustomsStatus.PENDING)),
        gate=HUU_NGHI,
        board=board,
        policy=POLICY,
        now=at(1),
    )

    def release(decision: LaneDecision, board: Board, who: str) -> Applied:
        return place_with_manifest(
            decision,
            manifest("M-h"),
            arrived_at=at(0),
            gate=HUU_NGHI,
            board=board,
            policy=POLICY,
            what=f"released by {who} (checked)",
            now=NOW,
        )

    first = release(review, board, "ana")
    assert first.decision.outcome is Outcome.ASSIGNED
    served = Board.for_gate(HUU_NGHI)  # its truck went through its lane: on the board no more
    assert served.place_of("v-h") is None
    for after in (first.board, served):
        with pytest.raises(ActionRefused) as refused:
            release(first.decision, after, "bob")
        assert str(refused.value) == (
            f"visit_id: v-h ({first.decision.plate}) is already assigned to "
            f"{first.decision.lane_id}: released by ana (checked)"
        )


def test_a_truck_held_by_one_controller_is_refused_to_the_next_saying_why() -> None:
    """Two controllers held the same queued truck at once: the second was told only
    'is not queued at the gate'. Now: in review, and who held it."""
    decisions, board = _busy_gate()
    decision = _queued(decisions, board)
    held = hold(decision, board=board, what="held by ana (seal broken)", now=NOW)
    why = (
        f"visit_id: {decision.visit_id} ({decision.plate}) is in review, not in a queue: "
        "held by ana (seal broken)"
    )
    with pytest.raises(ActionRefused) as refused:
        hold(held.decision, board=held.board, what="held by bob (x)", now=NOW)
    assert str(refused.value) == why
    with pytest.raises(ActionRefused) as refused:
        reassign(held.decision, "HN-E2", gate=HUU_NGHI, board=held.board, what="by bob", now=NOW)
    assert str(refused.value) == why
