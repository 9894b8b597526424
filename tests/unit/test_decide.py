from __future__ import annotations

from datetime import datetime

import pytest

from lanes.board import Board, Truck
from lanes.decide import decide_with_board, decision_id_for
from lanes.errors import DomainError
from lanes.model import (
    Assignment,
    BookingStatus,
    CustomsStatus,
    Direction,
    Gate,
    MatchOutcome,
    MatchResult,
    Outcome,
)
from lanes.policy import OrchestratedPolicy
from services.gates.loader import get_gate
from tests.unit.factories import at, manifest, matched, visit

HUU_NGHI = get_gate("huu-nghi")
POLICY = OrchestratedPolicy()
NOW = at(1)
SERVICE = next(lane.service_time for lane in HUU_NGHI.lanes if lane.lane_id == "HN-E1")


def test_decision_ids_are_deterministic_per_visit() -> None:
    assert decision_id_for("v-1") == decision_id_for("v-1")
    assert decision_id_for("v-1") != decision_id_for("v-2")
    assert decision_id_for("v-1").startswith("d-")


def test_the_decision_carries_the_visit_and_the_match() -> None:
    seen = visit(read_event_ids=("r-1", "r-2"))
    decision, _ = decide_with_board(
        seen,
        matched(manifest("M-1")),
        gate=HUU_NGHI,
        board=Board.for_gate(HUU_NGHI),
        policy=POLICY,
        now=NOW,
    )
    assert (decision.visit_id, decision.gate_id, decision.plate) == ("v-1", "huu-nghi", "29H12345")
    assert decision.decision_id == decision_id_for(seen.visit_id)
    assert decision.match_outcome is MatchOutcome.MATCHED
    assert decision.match_score == 1.0
    assert decision.decided_at == NOW
    assert decision.read_event_ids == ("r-1", "r-2")


def test_successive_decisions_spread_over_the_lanes() -> None:
    board = Board.for_gate(HUU_NGHI)
    lanes = []
    for n in range(3):
        decision, board = decide_with_board(
            visit(visit_id=f"v-{n}"),
            matched(manifest()),
            gate=HUU_NGHI,
            board=board,
            policy=POLICY,
            now=NOW,
        )
        lanes.append(decision.lane_id)
    assert lanes == ["HN-E1", "HN-E2", "HN-E3"]


def test_the_visit_direction_picks_the_lanes() -> None:
    seen = visit("桂A12345", Direction.IMPORT)
    found = manifest(plate="桂A12345", direction=Direction.IMPORT)
    decision, _ = decide_with_board(
        seen, matched(found), gate=HUU_NGHI, board=Board.for_gate(HUU_NGHI), policy=POLICY, now=NOW
    )
    assert decision.lane_id == "HN-I1"


@pytest.mark.parametrize(
    "outcome", [MatchOutcome.UNKNOWN, MatchOutcome.AMBIGUOUS, MatchOutcome.MISMATCH]
)
def test_unmatched_visits_need_review_with_the_evidence(outcome: MatchOutcome) -> None:
    board = Board.for_gate(HUU_NGHI)
    match = MatchResult(outcome, None, 0.0, "why it did not match")

    decision, after = decide_with_board(
        visit(), match, gate=HUU_NGHI, board=board, policy=POLICY, now=NOW
    )

    assert decision.outcome is Outcome.NEEDS_REVIEW
    assert decision.match_outcome is outcome
    assert decision.reason == "why it did not match"
    assert (decision.lane_id, decision.manifest_id, decision.expected_done_at) == (None,) * 3
    assert after == board


def test_mismatch_keeps_the_manifest_id_for_review() -> None:
    found = manifest("M-7", direction=Direction.IMPORT)
    match = MatchResult(MatchOutcome.MISMATCH, found, 0.0, "wrong way")
    decision, _ = decide_with_board(
        visit(), match, gate=HUU_NGHI, board=Board.for_gate(HUU_NGHI), policy=POLICY, now=NOW
    )
    assert decision.manifest_id == "M-7"


def test_a_truck_no_open_lane_takes_waits_in_review_and_changes_no_lane() -> None:
    """The hazmat lane closed: the hazmat truck goes to the review queue, where a controller
    sees it, with why (it was `refused`, listed nowhere, and never placed again)."""
    board = Board.for_gate(HUU_NGHI).lane_closed("HN-E12", NOW)
    decision, after = decide_with_board(
        visit(),
        matched(manifest(hazmat_class="2.1")),
        gate=HUU_NGHI,
        board=board,
        policy=POLICY,
        now=NOW,
    )
    assert decision.outcome is Outcome.NEEDS_REVIEW
    assert "no open export lane takes it (closed: HN-E12)" in decision.reason
    assert decision.reason.endswith("release it, or to turn it away")
    assert decision.manifest_id == "M-1"
    assert after == board


class _WrongLanePolicy:
    def assign(
        self, truck: Truck, board: Board, gate: Gate, *, now: datetime
    ) -> tuple[Assignment, Board]:
        return Assignment(Outcome.ASSIGNED, "HN-I1", "import lane for an export truck"), board

    def replan(
        self, board: Board, gate: Gate, *, now: datetime
    ) -> tuple[list[tuple[str, Assignment]], Board]:
        return [], board


def test_a_policy_choosing_a_lane_of_the_other_direction_is_a_domain_error() -> None:
    with pytest.raises(DomainError, match="HN-I1"):
        decide_with_board(
            visit(),
            matched(manifest()),
            gate=HUU_NGHI,
            board=Board.for_gate(HUU_NGHI),
            policy=_WrongLanePolicy(),
            now=NOW,
        )


def test_decide_with_board_queues_the_truck_and_explains_why() -> None:
    board = Board.for_gate(HUU_NGHI)
    seen = visit(read_event_ids=("r-1", "r-2"))

    decision, after = decide_with_board(
        seen,
        matched(manifest("M-1")),
        gate=HUU_NGHI,
        board=board,
        policy=POLICY,
        booking=BookingStatus.ON_TIME,
        now=NOW,
    )

    assert decision.outcome is Outcome.ASSIGNED
    assert decision.lane_id == "HN-E1"
    assert decision.decision_id == decision_id_for(seen.visit_id)
    assert decision.manifest_id == "M-1"
    assert decision.expected_start_at == NOW
    assert decision.expected_done_at == NOW + SERVICE
    assert decision.reason.startswith("green, on-time booking, priority 1: green channel")
    assert after.place_of(seen.visit_id) == "HN-E1"
    entry = after.lane("HN-E1").queue[0]
    assert entry.truck.arrived_at == seen.first_seen_at  # first sighting, not the decision
    assert board.place_of(seen.visit_id) is None  # the input board is untouched


def test_decide_with_board_sends_unmatched_and_pending_visits_to_review() -> None:
    board = Board.for_gate(HUU_NGHI)
    unknown = MatchResult(MatchOutcome.UNKNOWN, None, 0.0, "no manifest close enough")
    pending = matched(manifest(customs_status=CustomsStatus.PENDING))
    for match, reason in [
        (unknown, "no manifest close enough"),
        (pending, "customs status pending: not cleared"),
    ]:
        decision, after = decide_with_board(
            visit(), match, gate=HUU_NGHI, board=board, policy=POLICY, now=NOW
        )
        assert decision.outcome is Outcome.NEEDS_REVIEW
        assert decision.reason == reason
        assert decision.lane_id is None
        assert after == board


def test_a_carrier_slot_reaches_the_decision() -> None:
    board = Board.for_gate(HUU_NGHI)
    for n in range(1, 7):  # no standard lane: a 2-min handover beats a 3-min scanner
        board = board.lane_closed(f"HN-E{n}", NOW)
    decision, after = decide_with_board(
        visit(),
        matched(manifest(containers=("MSKU1234565",))),
        gate=HUU_NGHI,
        board=board,
        policy=POLICY,
        now=NOW,
    )
    assert decision.lane_id is None
    assert decision.carrier_slot is not None and decision.carrier_slot.startswith("AC-")
    assert after.place_of("v-1") == "tan-thanh-yard"
