from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import pytest

from lanes.assignment import SimpleLanePolicy
from lanes.decide import decide, decision_id_for
from lanes.errors import DomainError
from lanes.gates import HUU_NGHI
from lanes.model import (
    Assignment,
    Direction,
    Lane,
    LaneState,
    Manifest,
    MatchOutcome,
    MatchResult,
    Outcome,
)
from tests.unit.factories import at, manifest, matched, visit

POLICY = SimpleLanePolicy()
NOW = at(1)


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
    assert decision.lane_id == "HN-E2"  # free now, HN-E1 only at 10:05
    assert decision.decision_id == decision_id_for(seen.visit_id)
    assert (decision.visit_id, decision.gate_id, decision.plate) == ("v-1", "huu-nghi", "29H12345")
    assert decision.manifest_id == "M-1"
    assert decision.match_outcome is MatchOutcome.MATCHED
    assert decision.match_score == 1.0
    assert decision.decided_at == NOW
    assert decision.read_event_ids == ("r-1", "r-2")
    assert decision.expected_start_at == NOW
    assert decision.expected_done_at == NOW + timedelta(minutes=10)
    assert after["HN-E2"] == LaneState("HN-E2", free_at=NOW + timedelta(minutes=10), queued=1)
    assert after["HN-E1"] == states["HN-E1"]
    assert states == {"HN-E1": LaneState("HN-E1", free_at=at(5), queued=1)}  # input untouched


def test_successive_decisions_spread_over_the_lanes() -> None:
    states: dict[str, LaneState] = {}
    lanes = []
    for n in range(3):
        seen = visit(visit_id=f"v-{n}")
        decision, states = decide(
            seen, matched(manifest()), gate=HUU_NGHI, states=states, policy=POLICY, now=NOW
        )
        lanes.append(decision.lane_id)
    assert lanes == ["HN-E1", "HN-E2", "HN-E1"]
    assert states["HN-E1"].queued == 2
    assert states["HN-E1"].free_at == NOW + timedelta(minutes=20)


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
    states = {"HN-E5": LaneState("HN-E5", free_at=None, is_open=False)}
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
