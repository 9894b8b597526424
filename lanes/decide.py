"""Visit + match -> lane decision: the one place that turns a match into what the truck is told."""

from __future__ import annotations

from datetime import datetime

from lanes.board import Board
from lanes.errors import DomainError
from lanes.ids import stable_id
from lanes.model import (
    Assignment,
    BookingStatus,
    Gate,
    LaneDecision,
    MatchOutcome,
    MatchResult,
    Outcome,
    Visit,
)
from lanes.policy import OrchestratedPolicy, Policy, truck_from_manifest
from lanes.policy.callforward import CalledPlace, assign_called
from lanes.values import gate_clock


def decision_id_for(visit_id: str) -> str:
    """The id of the decision on `visit_id`: `d-<uuid5>` (one decision per visit)."""
    return stable_id("d", visit_id)


def decide_with_board(
    visit: Visit,
    match: MatchResult,
    *,
    gate: Gate,
    board: Board,
    policy: Policy,
    booking: BookingStatus = BookingStatus.WALK_IN,
    now: datetime,
    called: CalledPlace | None = None,
    earlier: LaneDecision | None = None,
) -> tuple[LaneDecision, Board]:
    """Decide the visit's lane (or carrier slot) on the gate's board; returns the decision
    and the board with the truck queued where it was sent.

    A matched, cleared visit becomes a Truck (first sighting = the visit's first read, its
    booking status as given) and goes to the policy; any other match outcome needs review,
    with the match evidence as the reason, and leaves the board as it was. A truck called
    forward from the waiting area (`called`, its manifest's call, holding now) goes where
    the call sent it (`assign_called`), when the policy is the orchestrated one, the policy
    the calls are made by; another policy (a what-if) places it as any truck.

    `earlier`: the gate's newest decision on the matched manifest, if any. A manifest is one
    truck's crossing: when another visit of the gate was already matched to it, this visit
    needs review (`given_before`) and leaves the board as it was.
    """
    manifest = match.manifest
    twice = given_before(visit, match, earlier, gate=gate, now=now)
    if twice is not None:
        assignment = Assignment(Outcome.NEEDS_REVIEW, None, twice)
    elif match.outcome is MatchOutcome.MATCHED and manifest is not None:
        truck = truck_from_manifest(
            visit.visit_id, manifest, arrived_at=visit.first_seen_at, booking=booking
        )
        if truck is None:
            assignment = Assignment(
                Outcome.NEEDS_REVIEW, None, "customs status pending: not cleared"
            )
        else:
            placed = None
            if called is not None and isinstance(policy, OrchestratedPolicy) and called.holds(now):
                placed = assign_called(called, truck, board, gate, now=now, lanes=policy)
            assignment, board = placed or policy.assign(truck, board, gate, now=now)
            assignment = for_a_controller(assignment)
            lanes = {lane.lane_id for lane in gate.lanes_for(visit.direction)}
            if assignment.lane_id is not None and assignment.lane_id not in lanes:
                raise DomainError(
                    f"policy chose lane {assignment.lane_id!r}, which is not a "
                    f"{visit.direction} lane of gate {gate.gate_id!r}"
                )
    else:
        assignment = Assignment(Outcome.NEEDS_REVIEW, None, match.evidence)
    return _decision(visit, match, assignment, now=now), board


def read_again(
    visit: Visit, match: MatchResult, earlier: LaneDecision | None, *, board: Board
) -> bool:
    """Whether the visit is the truck the manifest was given to, read again while it is still
    at the gate: the visit matched the manifest that `earlier` (another visit of the gate,
    matched) sent to a lane or a carrier slot, and the truck of that visit is still in
    that place on the board (queued or in service, the board settled to the visit's time).
    Such a visit is given no decision: the truck keeps the one it has.

    A truck queued longer than the visit window between two cameras (the approach camera
    and the gate's, a road queue; the gate's and the lane's, a lane queue) is read again
    after the window; until 2026-12-06 its second visit went to review (`given_before`), one
    review item for every truck that queued long, the busiest hours the most. A visit of
    the manifest once its truck has left the board (done, or past its expected time) still
    goes to review: a re-entry, or another truck with its plates. Two trucks with one
    plate at the gate at once are the cloned-plate alert's (`lanes.alerts`), which counts
    every sighting."""
    if earlier is None or not _given_to_another(visit, match, earlier):
        return False
    return earlier.outcome is Outcome.ASSIGNED and board.place_of(earlier.visit_id) is not None


def _given_to_another(visit: Visit, match: MatchResult, earlier: LaneDecision) -> bool:
    """Whether the visit matched the manifest that `earlier`, the decision on another visit
    of the gate that identified its truck, was matched to."""
    manifest = match.manifest
    if match.outcome is not MatchOutcome.MATCHED or manifest is None:
        return False
    if earlier.visit_id == visit.visit_id or earlier.match_outcome is not MatchOutcome.MATCHED:
        return False
    return earlier.manifest_id == manifest.manifest_id


def given_before(
    visit: Visit,
    match: MatchResult,
    earlier: LaneDecision | None,
    *,
    gate: Gate,
    now: datetime,
) -> str | None:
    """Why the visit needs review when its manifest was already matched at the gate to
    another visit (`earlier`, the newest decision on the manifest there), else None.

    Visits group reads by plate and time (`lanes.visits`): a truck read again after the
    visit window (at the lane-entry camera after 10 minutes in a queue, standing at the
    barrier, or a rear camera's trailer plate then) opens a second visit, and the matcher
    gives it the same manifest. Until 2026-12-06 that visit was given a lane too: one truck,
    two decisions on the topic, two places on the board. The second visit goes to review,
    not joined to the first: a controller tells the same truck read again (dismiss it) from
    a second truck with the same plates (a cloned plate), which the reads cannot; its lane
    stays the first decision's. An earlier decision whose match was not a truck identified
    (unknown, ambiguous) gives nothing: the manifest was never given."""
    if earlier is None or not _given_to_another(visit, match, earlier):
        return None
    place = earlier.lane_id or earlier.carrier_slot or earlier.outcome.value.replace("_", " ")
    at = gate_clock(earlier.decided_at, gate.utc_offset, day_of=now)
    return (
        f"manifest {earlier.manifest_id} already given to visit {earlier.visit_id} at {at} "
        f"({place}): the same truck read again, or another truck with its plates"
    )


def for_a_controller(assignment: Assignment) -> Assignment:
    """A truck the policy refused (no open lane of its direction takes it: the hazmat lane
    closed, every inspection bay closed) waits in the review queue for a controller, who
    opens a lane that takes it and releases it, or turns it away (lanes/actions.py). Until
    2026-12-06 the live decision was `refused` and nothing ever came back to it: the truck
    stood at the gate, in no queue and in no list of the control room, and reopening the
    lane left it there. The policy itself still says `refused` (the simulation counts it and
    tries the truck again, as a lane controller would)."""
    if assignment.outcome is not Outcome.REFUSED:
        return assignment
    return Assignment(
        Outcome.NEEDS_REVIEW,
        None,
        f"{assignment.reason}: waits for a controller to open a lane that takes it and "
        "release it, or to turn it away",
    )


def _decision(
    visit: Visit, match: MatchResult, assignment: Assignment, *, now: datetime
) -> LaneDecision:
    return LaneDecision(
        decision_id=decision_id_for(visit.visit_id),
        visit_id=visit.visit_id,
        gate_id=visit.gate_id,
        plate=visit.plate,
        manifest_id=None if match.manifest is None else match.manifest.manifest_id,
        outcome=assignment.outcome,
        match_outcome=match.outcome,
        lane_id=assignment.lane_id,
        reason=assignment.reason,
        decided_at=now,
        read_event_ids=visit.read_event_ids,
        carrier_slot=assignment.carrier_slot,
        expected_start_at=assignment.expected_start_at,
        expected_done_at=assignment.expected_done_at,
        match_score=match.score,
        match_candidates=match.candidates,
    )
