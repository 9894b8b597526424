"""Controller actions, as the domain sees them: pure checks and their effect on a decision
and the gate's board. The same policy and board rules as automatic decisions: a truck a
controller places is placed by `Policy.assign` (pick a manifest, confirm a plate, release),
or on a lane the rules allow for it (reassign: same direction, open, takes its cargo and
customs channel). Time is an argument; nothing here reads a clock or a database."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from lanes.board import Board, Queued, Truck
from lanes.errors import DomainError
from lanes.model import (
    Assignment,
    CargoClass,
    CustomsChannel,
    Gate,
    Lane,
    LaneDecision,
    Manifest,
    Outcome,
)
from lanes.policy import Policy, truck_from_manifest
from lanes.policy.hours import local_hhmm
from lanes.policy.plan import lane_slot, project_lane
from lanes.policy.truck import describe
from lanes.revise import revised_decision

ACTIONS = (
    "pick_manifest",  # an ambiguous/unknown visit: this manifest is the truck's
    "confirm_plate",  # a review visit: the plate as the controller reads it
    "reassign",  # a queued truck to another lane
    "hold",  # take a queued truck out of its queue (to review)
    "release",  # a held truck back to the policy
    "turn_away",  # a visit in review refused entry (no declaration, seal broken, ...)
    "open_lane",
    "close_lane",
    "carrier_out",  # an autonomous carrier out of service (its trips re-planned)
    "carrier_back",  # back in service
)


class ActionRefused(DomainError):
    """An action the rules do not allow; the message says why, naming the field."""


class UnknownTarget(ActionRefused):
    """The action names a lane or a carrier the gate does not have: not found (the control
    room's 404, as an unknown visit), not a conflict with the board's state (409)."""


@dataclass(frozen=True, slots=True)
class Applied:
    decision: LaneDecision
    board: Board


def _controller_decision(
    decision: LaneDecision,
    assignment: Assignment,
    *,
    what: str,
    now: datetime,
    manifest_id: str | None = None,
    plate: str | None = None,
) -> LaneDecision:
    revised = revised_decision(decision, assignment, now=now)
    return replace(
        revised,
        manifest_id=manifest_id or decision.manifest_id,
        plate=plate or decision.plate,
        reason=f"{what} -> {assignment.reason}",
    )


def place_with_manifest(
    decision: LaneDecision,
    manifest: Manifest,
    *,
    arrived_at: datetime,
    gate: Gate,
    board: Board,
    policy: Policy,
    what: str,
    now: datetime,
    plate: str | None = None,
) -> Applied:
    """The visit's truck is the one of `manifest`: the policy places it (pick a manifest,
    confirm a plate, release a held truck). `plate`: the plate as the controller read it,
    which the revised decision carries instead of the camera's."""
    if decision.outcome is Outcome.ASSIGNED:
        # whether or not its truck is still on the board: one served already has gone
        # through its lane, and placing it again would call its driver back
        raise ActionRefused(f"visit_id: {decision.visit_id} {already_assigned(decision)}")
    if turned_away(decision):
        raise ActionRefused(
            f"visit_id: {decision.visit_id} ({decision.plate or 'no plate'}) was "
            f"{decision.reason.split(' -> ', 1)[0]}; a truck that comes back later than the "
            "gate's visit window after its last read is a new visit, decided again"
        )
    lanes = gate.lanes_for(manifest.direction)
    directions = {lane.direction for lane in gate.lanes if decision.lane_id == lane.lane_id}
    if not lanes:
        raise ActionRefused(f"manifest_id: gate {gate.gate_id!r} has no {manifest.direction} lane")
    if directions and manifest.direction not in directions:
        raise ActionRefused(f"manifest_id: {manifest.manifest_id} is for {manifest.direction}")
    truck = truck_from_manifest(decision.visit_id, manifest, arrived_at=arrived_at)
    if truck is None:
        raise ActionRefused(
            f"manifest_id: {manifest.manifest_id} is not cleared by customs (status pending)"
        )
    assignment, board = policy.assign(truck, board, gate, now=now)
    if assignment.outcome is Outcome.REFUSED:  # it stays in review, as it was
        raise ActionRefused(f"visit_id: {assignment.reason}; open one first")
    return Applied(
        _controller_decision(
            decision,
            assignment,
            what=what,
            now=now,
            manifest_id=manifest.manifest_id,
            plate=plate,
        ),
        board,
    )


def already_assigned(decision: LaneDecision) -> str:
    """Why an assigned visit cannot be placed again, as the other controller needs it: the
    truck, where it went, and who or what placed it (`released by ana (...)`)."""
    where = decision.lane_id or f"carrier slot {decision.carrier_slot}"
    by = decision.reason.split(" -> ", 1)[0] if decision.revision else "decided by the policy"
    return f"({decision.plate or 'no plate'}) is already assigned to {where}: {by}"


def in_a_queue(decision: LaneDecision) -> None:
    """A visit in review or refused is in no queue: the refusal says so and why (a second
    controller holding or moving a truck another has just held was told only 'is not
    queued at the gate')."""
    if decision.outcome is Outcome.ASSIGNED:
        return
    state = "in review" if decision.outcome is Outcome.NEEDS_REVIEW else "refused"
    why = decision.reason.split(" -> ", 1)[0] if decision.revision else "decided so by the gate"
    raise ActionRefused(
        f"visit_id: {decision.visit_id} ({decision.plate or 'no plate'}) is {state}, "
        f"not in a queue: {why}"
    )


def queued_truck(board: Board, visit_id: str) -> tuple[str, Queued]:
    found = board.queued_entry(visit_id)
    if found is None:
        if board.place_of(visit_id) is not None:
            raise ActionRefused(f"visit_id: {visit_id} is in service; it can no longer move")
        raise ActionRefused(f"visit_id: {visit_id} is not queued at the gate")
    return found


def reassign(
    decision: LaneDecision,
    lane_id: str,
    *,
    gate: Gate,
    board: Board,
    what: str,
    now: datetime,
) -> Applied:
    """The queued truck moved to `lane_id`, if the lane may take it."""
    in_a_queue(decision)
    place, entry = queued_truck(board, decision.visit_id)
    truck = entry.truck
    lane = next((lane for lane in gate.lanes if lane.lane_id == lane_id), None)
    if lane is None:
        raise UnknownTarget(f"lane_id: gate {gate.gate_id!r} has no lane {lane_id!r}")
    if lane_id == place:
        raise ActionRefused(f"lane_id: the truck is already on {lane_id}")
    _check_lane_takes(lane_id, truck, gate=gate, board=board)
    board = board.without(truck.visit_id)
    slot = lane_slot(lane, board.lane(lane_id), truck, now=now, utc_offset=gate.utc_offset)
    board = board.assigned(Queued(truck, lane.service_time, slot.start, slot.done), place=lane_id)
    board = board.with_queue(
        lane_id, project_lane(lane, board.lane(lane_id), now=now, utc_offset=gate.utc_offset)
    )
    mine = next(e for e in board.lane(lane_id).queue if e.truck.visit_id == truck.visit_id)
    reason = (
        f"{describe(truck)}: {lane.kind} lane {lane_id}, expected start "
        f"{local_hhmm(mine.expected_start_at, gate.utc_offset)}, done "
        f"{local_hhmm(mine.expected_done_at, gate.utc_offset)}"
    )
    assignment = Assignment(
        Outcome.ASSIGNED, lane_id, reason, mine.expected_start_at, mine.expected_done_at
    )
    return Applied(_controller_decision(decision, assignment, what=what, now=now), board)


def _check_lane_takes(lane_id: str, truck: Truck, *, gate: Gate, board: Board) -> None:
    lane = next(lane for lane in gate.lanes if lane.lane_id == lane_id)
    if lane.direction is not truck.direction:
        raise ActionRefused(
            f"lane_id: {lane_id} is an {lane.direction} lane; the truck is {truck.direction}"
        )
    if not board.lane(lane_id).is_open:
        raise ActionRefused(f"lane_id: {lane_id} is closed")
    refusal = cargo_refusal(lane, cargo=truck.cargo, channel=truck.channel)
    if refusal is not None:
        raise ActionRefused(f"lane_id: {refusal}")


def cargo_refusal(
    lane: Lane, *, cargo: frozenset[CargoClass], channel: CustomsChannel
) -> str | None:
    """Why `lane` does not take a truck of this cargo and customs channel; None if it does."""
    refused = sorted(c.value for c in cargo - lane.accepts)
    if refused:
        return f"{lane.lane_id} does not take {', '.join(refused)} cargo"
    if channel not in lane.channels:
        return f"{lane.lane_id} does not take the {channel} channel"
    return None


def lanes_to_move_to(
    place: str, *, gate: Gate, cargo: frozenset[CargoClass], channel: CustomsChannel
) -> tuple[str, ...]:
    """The lanes of the gate a truck queued on `place` may be moved to as far as the gate
    file goes (direction, cargo, channel); whether each is open is the board's."""
    here = next(lane for lane in gate.lanes if lane.lane_id == place)
    return tuple(
        lane.lane_id
        for lane in gate.lanes
        if lane.lane_id != place
        and lane.direction is here.direction
        and cargo_refusal(lane, cargo=cargo, channel=channel) is None
    )


HELD = "held until a controller releases it"  # a held truck's reason ends with it


def hold(decision: LaneDecision, *, board: Board, what: str, now: datetime) -> Applied:
    """The queued truck taken out of its queue; its decision goes back to review."""
    in_a_queue(decision)
    queued_truck(board, decision.visit_id)
    assignment = Assignment(Outcome.NEEDS_REVIEW, None, HELD)
    return Applied(
        _controller_decision(decision, assignment, what=what, now=now),
        board.without(decision.visit_id),
    )


NOT_ADMITTED = "not admitted at the gate"


def turned_away(decision: LaneDecision) -> bool:
    """Whether a controller turned the visit away (`turn_away`): final, unlike a policy's
    refusal (no open lane takes the truck), which a pick or a release may place later."""
    return decision.outcome is Outcome.REFUSED and decision.reason.endswith(f"-> {NOT_ADMITTED}")


def turn_away(decision: LaneDecision, *, board: Board, what: str, now: datetime) -> Applied:
    """A visit in review refused entry: its decision becomes `refused`, so it leaves the
    review queue with the controller's reason (a truck with no declaration sent back to
    the parking, a truck held for a broken seal handed to customs). Only a visit in review:
    a queued truck is held first (out of its lane, audited), then turned away; a truck in
    service has passed the barrier."""
    if decision.outcome is Outcome.ASSIGNED:
        queued = board.queued_entry(decision.visit_id) is not None
        then = "hold it first, then turn it away" if queued else "it can no longer be turned away"
        raise ActionRefused(f"visit_id: {decision.visit_id} {already_assigned(decision)}; {then}")
    if decision.outcome is Outcome.REFUSED:
        why = decision.reason.split(" -> ", 1)[0] if decision.revision else "refused by the gate"
        raise ActionRefused(
            f"visit_id: {decision.visit_id} ({decision.plate or 'no plate'}) is already "
            f"refused: {why}"
        )
    assignment = Assignment(Outcome.REFUSED, None, NOT_ADMITTED)
    return Applied(_controller_decision(decision, assignment, what=what, now=now), board)


@dataclass(frozen=True, slots=True)
class PendingLaneChange:
    """A lane opened or closed (a carrier put back in service or taken out: `opens` is
    back) by a controller, its lane event not yet applied to the board (the lane-event
    worker applies it a moment later): `by`, e.g. 'ana (crew short)'."""

    opens: bool
    by: str


def lane_change_allowed(
    lane_id: str,
    *,
    gate: Gate,
    board: Board,
    open_it: bool,
    pending: PendingLaneChange | None = None,
) -> None:
    """Opening an open lane or closing a closed one is refused (no event for nothing); a lane
    a controller is opening or closing counts as done (two controllers closing one lane
    were both 'done', two closures audited and sent, until 2026-12-05)."""
    if lane_id not in {lane.lane_id for lane in gate.lanes}:
        raise UnknownTarget(f"lane_id: gate {gate.gate_id!r} has no lane {lane_id!r}")
    if pending is not None:
        if pending.opens is open_it:
            done = "opened" if open_it else "closed"
            raise ActionRefused(f"lane_id: {lane_id} is already being {done} by {pending.by}")
        return
    if board.lane(lane_id).is_open is open_it:
        raise ActionRefused(f"lane_id: {lane_id} is already {'open' if open_it else 'closed'}")


def carrier_change_allowed(
    carrier_id: str, *, board: Board, back: bool, pending: PendingLaneChange | None = None
) -> None:
    """As `lane_change_allowed`, for a carrier taken out of service (`back` False) or put
    back: a carrier not of the gate's fleet, out already or in service already is refused;
    one a controller is changing counts as changed until its lane event is applied."""
    if carrier_id not in {c.carrier_id for c in board.carriers}:
        raise UnknownTarget(f"carrier_id: gate {board.gate_id!r} has no carrier {carrier_id!r}")
    if pending is not None:
        if pending.opens is back:
            doing = "put back in service" if back else "taken out of service"
            raise ActionRefused(
                f"carrier_id: {carrier_id} is already being {doing} by {pending.by}"
            )
        return
    if board.carrier(carrier_id).out_of_service is not back:
        state = "in service" if back else "out of service"
        raise ActionRefused(f"carrier_id: {carrier_id} is already {state}")
