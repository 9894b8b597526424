"""A holding alert's truck (lanes/alerts/hold.py): out of its queue and back to review with
the control room's own `hold`; at its barrier, kept there and still to review; gone through
or not assigned, nothing to hold."""

from __future__ import annotations

from dataclasses import replace

from lanes.alerts.hold import hold_for
from lanes.alerts.model import make_alert
from lanes.board import Board
from lanes.decide import decide_with_board
from lanes.model import LaneDecision, Outcome
from lanes.policy import OrchestratedPolicy
from lanes.settle import settle
from services.gates.loader import get_gate
from tests.unit.factories import at, manifest, matched, visit

GATE = get_gate("huu-nghi")
ALERT = make_alert(
    "swap", "manifest:M-0", gate_id=GATE.gate_id, raised_at=at(1), explanation="x", evidence=()
)


def _decided(trucks: int) -> tuple[list[LaneDecision], Board]:
    board, out = Board.for_gate(GATE), []
    for n in range(trucks):
        d, board = decide_with_board(
            visit(visit_id=f"v-{n}"),
            matched(manifest(f"M-{n}")),
            gate=GATE,
            board=board,
            policy=OrchestratedPolicy(),
            now=at(1),
        )
        out.append(d)
    return out, board


def test_a_queued_truck_leaves_its_queue_for_review() -> None:
    decisions, board = _decided(30)
    queued = next(d for d in decisions if board.queued_entry(d.visit_id) is not None)
    applied = hold_for(queued, ALERT, board=board, now=at(2))
    assert applied is not None
    assert applied.decision.outcome is Outcome.NEEDS_REVIEW and applied.decision.revision == 1
    assert "risk alert swap" in applied.decision.reason
    assert applied.board.queued_entry(queued.visit_id) is None


def test_a_truck_at_its_barrier_stays_and_goes_to_review() -> None:
    decisions, board = _decided(1)
    (serving,) = decisions
    board = settle(board, GATE, now=at(1.5))
    assert board.queued_entry(serving.visit_id) is None  # an idle gate: served at once
    applied = hold_for(serving, ALERT, board=board, now=at(1.5))
    assert applied is not None and applied.board is board
    assert applied.decision.outcome is Outcome.NEEDS_REVIEW
    assert applied.decision.reason.endswith("kept at the barrier")


def test_nothing_to_hold_once_through_or_when_not_assigned() -> None:
    decisions, board = _decided(1)
    (done,) = decisions
    assert done.expected_done_at is not None
    board = settle(board, GATE, now=done.expected_done_at)
    assert hold_for(done, ALERT, board=board, now=done.expected_done_at) is None
    review = replace(done, outcome=Outcome.NEEDS_REVIEW)
    assert hold_for(review, ALERT, board=board, now=at(1)) is None
