"""A decision revised: a re-plan (lane closed, carrier out) gives the visit a new decision."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from lanes.ids import stable_id
from lanes.model import Assignment, LaneDecision


def revised_decision_id(visit_id: str, revision: int) -> str:
    """`d-<uuid5>` of the visit's `revision`-th decision (revision 0 is `decision_id_for`)."""
    return stable_id("d", visit_id, f"revision-{revision}")


def revised_decision(
    decision: LaneDecision, assignment: Assignment, *, now: datetime
) -> LaneDecision:
    """`decision` replaced by `assignment` at `now`: same visit and match, next revision."""
    revision = decision.revision + 1
    return replace(
        decision,
        decision_id=revised_decision_id(decision.visit_id, revision),
        outcome=assignment.outcome,
        lane_id=assignment.lane_id,
        carrier_slot=assignment.carrier_slot,
        reason=assignment.reason,
        decided_at=now,
        expected_start_at=assignment.expected_start_at,
        expected_done_at=assignment.expected_done_at,
        revision=revision,
    )


def changes_anything(decision: LaneDecision, assignment: Assignment) -> bool:
    """Whether `assignment` tells the truck something its current `decision` does not: an
    outcome, a lane, a carrier slot or an expected start or end of its own. A re-plan that
    puts a truck back where it was expected anyway (a bay closed for the night that the truck
    was already waiting to open) is no news, and gets no revision."""
    return (
        decision.outcome,
        decision.lane_id,
        decision.carrier_slot,
        decision.expected_start_at,
        decision.expected_done_at,
    ) != tells(assignment)


def tells(assignment: Assignment) -> tuple[object, ...]:
    """What an assignment tells its truck (`changes_anything` compares it): the simulation
    keeps it per truck to count only the re-plans that are news, as the live path revises."""
    return (
        assignment.outcome,
        assignment.lane_id,
        assignment.carrier_slot,
        assignment.expected_start_at,
        assignment.expected_done_at,
    )
