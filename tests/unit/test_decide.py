from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import pytest

from lanes.assignment import SimpleLanePolicy
from lanes.board import Board
from lanes.decide import decide, decide_with_board, decision_id_for, revised_decision
from lanes.errors import DomainError
from lanes.model import (
    Assignment,
    BookingStatus,
    CustomsStatus,
    Direction,
    Lane,
    LaneState,
    Manifest,
    MatchOutcome,
    MatchResult,
    Outcome,
)
from lanes.policy import OrchestratedPolicy
from services.gate_config import get_gate
from tests.unit.factories import at, manifest, matched, visit

HUU_NGHI = get_gate("huu-nghi")
POLICY = SimpleLanePolicy()
NOW = at(1)
SERVICE = timedelta(minutes=1.5)  # a standard lane's mean (services/gates/huu-nghi.toml)


def test_decision_ids_are_deterministic_per_visit() -> None:
    assert decision_id_for("v-1") == decision_id_for("v-1")
    assert decision_id_for("v-1") != decision_id_for("v-2")
    assert decision_id_for("v-1").startswith("d-")


def test_matched_visit_is_assigned_and_the_lane_state_moves_on() -> None:
    states = {"HN-E1": LaneState("HN-E1", free_at=at(5), queued=1)}
    seen = visit(read_event_ids=("r-1", "r-2"))

    decision, after = decide(
        seen, matched(manifest("M-1")), gate=HUU_NGHI, states=states, policy=POLICY, now=NOW
    )

    assert decision.outcome is Outcome.ASSIGNED
    assert decision.lane_id == "HN-E2"  # free now (HN-E3..E6 too: ties by id), HN-E1 at 10:05
    assert decision.decision_id == decision_id_for(seen.visit_id)
    assert (decision.visit_id, decision.gate_id, decision.plate) == ("v-1", "huu-nghi", "29H12345")
    assert decision.manifest_id == "M-1"
    assert decision.match_outcome is MatchOutcome.MATCHED
    assert decision.match_score == 1.0
    assert decision.decided_at == NOW
    assert decision.read_event_ids == ("r-1", "r-2")
    assert decision.expected_start_at == NOW
    assert decision.expected_done_at == NOW + SERVICE
    assert after["HN-E2"] == LaneState("HN-E2", free_at=NOW + SERVICE, queued=1)
    assert after["HN-E1"] == states["HN-E1"]
    assert states == {"HN-E1": LaneState("HN-E1", free_at=at(5), queued=1)}  # input untouched


def test_successive_decisions_spread_over_the_lanes() -> None:
    states: dict[str, LaneState] = {}
    lanes = []
    for n in range(7):
        seen = visit(visit_id=f"v-{n}")
        decision, states = decide(
            seen, matched(manifest()), gate=HUU_NGHI, states=states, policy=POLICY, now=NOW
        )
        lanes.append(decision.lane_id)
    assert lanes == ["HN-E1", "HN-E2", "HN-E3", "HN-E4", "HN-E5", "HN-E6", "HN-E1"]
    assert states["HN-E1"].queued == 2
    assert states["HN-E1"].free_at == NOW + 2 * SERVICE


def test_the_visit_direction_picks_the_lanes() -> None:
    seen = visit("桂A12345", Direction.IMPORT)
    found = manifest(plate="桂A12345", direction=Direction.IMPORT)
    decision, _ = decide(seen, matched(found), gate=HUU_NGHI, states={}, policy=POLICY, now=NOW)
    assert decision.lane_id == "HN-I1"


@pytest.mark.parametrize(
    "outcome", [MatchOutcome.UNKNOWN, MatchOutcome.AMBIGUOUS, MatchOutcome.MISMATCH]
)
def test_unmatched_visits_need_review_with_the_evidence(outcome: MatchOutcome) -> None:
    states = {"HN-E1": LaneState("HN-E1", free_at=at(5))}
    match = MatchResult(outcome, None, 0.0, "why it did not match")

    decision, after = decide(visit(), match, gate=HUU_NGHI, states=states, policy=POLICY, now=NOW)

    assert decision.outcome is Outcome.NEEDS_REVIEW
    assert decision.match_outcome is outcome
    assert decision.reason == "why it did not match"
    assert decision.lane_id is None
    assert decision.manifest_id is None
    assert decision.expected_done_at is None
    assert after == states


def test_mismatch_keeps_the_manifest_id_for_review() -> None:
    found = manifest("M-7", direction=Direction.IMPORT)
    match = MatchResult(MatchOutcome.MISMATCH, found, 0.0, "wrong way")
    decision, _ = decide(visit(), match, gate=HUU_NGHI, states={}, policy=POLICY, now=NOW)
    assert decision.manifest_id == "M-7"


def test_policy_refusal_changes_no_lane() -> None:
    states = {"HN-E12": LaneState("HN-E12", free_at=None, is_open=False)}  # the hazmat lane
    decision, after = decide(
        visit(),
        matched(manifest(hazmat_class="2.1")),
        gate=HUU_NGHI,
        states=states,
        policy=POLICY,
        now=NOW,
    )
    assert decision.outcome is Outcome.REFUSED
    assert decision.manifest_id == "M-1"
    assert after == states


class _WrongLanePolicy:
    def assign(
        self,
        manifest: Manifest,
        lanes: Sequence[Lane],
        states: Mapping[str, LaneState],
        *,
        now: datetime,
    ) -> Assignment:
        return Assignment(Outcome.ASSIGNED, "HN-I1", "import lane for an export truck")


def test_a_policy_choosing_a_lane_of_the_other_direction_is_a_domain_error() -> None:
    with pytest.raises(DomainError, match="HN-I1"):
        decide(
            visit(),
            matched(manifest()),
            gate=HUU_NGHI,
            states={},
            policy=_WrongLanePolicy(),
            now=NOW,
        )


# -- the board-based path (issue 4) ---------------------------------------------------------


def test_decide_with_board_queues_the_truck_and_explains_why() -> None:
    board = Board.for_gate(HUU_NGHI)
    seen = visit(read_event_ids=("r-1", "r-2"))

    decision, after = decide_with_board(
        seen,
        matched(manifest("M-1")),
        gate=HUU_NGHI,
        board=board,
        policy=OrchestratedPolicy(),
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
            visit(), match, gate=HUU_NGHI, board=board, policy=OrchestratedPolicy(), now=NOW
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
        policy=OrchestratedPolicy(),
        now=NOW,
    )
    assert decision.lane_id is None
    assert decision.carrier_slot is not None and decision.carrier_slot.startswith("AC-")
    assert after.place_of("v-1") == "tan-thanh-yard"


def test_a_revised_decision_keeps_the_visit_and_takes_the_new_plan() -> None:
    first, _ = decide_with_board(
        visit(),
        matched(manifest()),
        gate=HUU_NGHI,
        board=Board.for_gate(HUU_NGHI),
        policy=OrchestratedPolicy(),
        now=NOW,
    )
    replanned = Assignment(
        Outcome.ASSIGNED, "HN-E2", "re-planned: lane HN-E1 closed", NOW, NOW + SERVICE
    )

    revised = revised_decision(first, replanned, now=at(3))

    assert (revised.decision_id, revised.visit_id, revised.manifest_id) == (
        first.decision_id,
        first.visit_id,
        first.manifest_id,
    )
    assert (revised.lane_id, revised.reason, revised.decided_at) == (
        "HN-E2",
        "re-planned: lane HN-E1 closed",
        at(3),
    )
    assert revised.match_outcome is first.match_outcome
