"""A truck held by an alert whose rule says so: its queued decision goes back to review
with the control room's own `hold` (out of its queue); a truck already at its barrier (in
service, or at the yard for a carrier) gets the same review decision and keeps its place,
since it is still there; one whose service ended is gone: nothing to hold."""

from __future__ import annotations

from datetime import datetime

from lanes.actions import ActionRefused, Applied, hold
from lanes.alerts.model import Alert
from lanes.board import Board
from lanes.model import Assignment, LaneDecision, Outcome
from lanes.revise import revised_decision


def hold_for(
    decision: LaneDecision, alert: Alert, *, board: Board, now: datetime
) -> Applied | None:
    """The held decision and board, or None when there is nothing to hold (the decision is
    not a lane or carrier assignment, or the truck has gone through)."""
    if decision.outcome is not Outcome.ASSIGNED:
        return None
    what = f"held by risk alert {alert.rule} ({alert.alert_id})"
    try:
        return hold(decision, board=board, what=what, now=now)
    except ActionRefused:  # in service, at a yard bay or handed to a carrier
        done = decision.expected_done_at
        if done is not None and done <= now:
            return None
    review = Assignment(Outcome.NEEDS_REVIEW, None, f"{what} -> kept at the barrier")
    return Applied(revised_decision(decision, review, now=now), board)
