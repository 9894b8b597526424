"""Which places a call-forward call weighs, and how many trucks a call may leave waiting at
the barriers (issue 23). Pure: the board, the gate and the time are arguments.

- `own_kind`: a truck called while the area has no backlog is weighed on the lanes of the
  least scarce kind that takes it (green: the standard lanes, and the carrier slots; yellow:
  the scanners; hazmat cargo: the hazmat lane). A red truck is left to the orchestrated rule
  (the inspection bays first). The scarcer lanes are then kept for the trucks that need them:
  a green truck called to a scanner takes the place a yellow truck in the area waits for, and
  a yellow truck called to the hazmat lane takes 6 minutes there instead of 3 at a scanner.
- `lane_kind`, `backlogged`: the call lead (a truck called to be at the gate a little before
  its place is expected free) applies to a truck while the trucks waiting to be called for
  its kind of lane are at least as many as the open lanes of that kind (a backlog there), not
  while the area holds as many trucks as the direction has lanes of every kind: at the start
  of a peak the standard lanes have a backlog of green trucks long before the area holds 12
  (3 inspection bays and a hazmat lane among them), and without the lead each of them idled
  while the truck called to it drove up whenever the truck ahead was done early.
- `at_barrier`: the trucks expected to wait at the barriers of the lanes of one kind of a
  direction at a time: at the gate (or called and due by then) but not yet started. The
  call lead (a truck called to be there before its lane is free, so that the lane does not
  idle when the truck ahead is done early) is spent on a pool of lanes, not on each lane:
  `BARRIER_BUFFER` trucks at most wait for the lanes of one kind, whichever of them frees
  first (the lane controller waves the truck at a barrier into the lane free first).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

from lanes.board import Board, Truck
from lanes.model import CustomsChannel, Direction, Gate, Lane, LaneKind
from lanes.policy.plan import project_lane
from lanes.policy.view import SCARCITY

# Trucks at most expected at the barriers of one kind of lane when a truck is called early.
# Chosen on the bench (4,500 trucks, seed 1: 2 cost dwell x1.19, 3 gave x1.07; 2026-12-04).
BARRIER_BUFFER = 3


def own_kind(board: Board, gate: Gate, truck: Truck, *, now: datetime) -> Board:
    """The board to weigh `truck`'s call on: every open lane that takes it but is not of the
    least scarce kind among them closed (weighing only). Unchanged for a red truck, and when
    no open lane takes it."""
    if truck.channel is CustomsChannel.RED:
        return board
    lanes = [
        lane
        for lane in gate.lanes_for(truck.direction)
        if truck.cargo <= lane.accepts
        and truck.channel in lane.channels
        and board.lane(lane.lane_id).is_open
    ]
    if not lanes:
        return board
    least = min(SCARCITY[lane.kind] for lane in lanes)
    for lane in lanes:
        if SCARCITY[lane.kind] != least:
            board = board.lane_closed(lane.lane_id, now)
    return board


def lane_kind(truck: Truck, board: Board, gate: Gate, *, now: datetime) -> LaneKind | None:
    """The kind of lane a waiting truck is for: the least scarce kind among the lanes open and
    in their hours now that take it (green: standard; yellow: scanner; hazmat cargo: hazmat),
    for a red truck the scarcest (the inspection bays, which the orchestrated rule takes
    first); None when no open lane takes it."""
    kinds = {
        lane.kind
        for lane in gate.lanes_for(truck.direction)
        if truck.cargo <= lane.accepts
        and truck.channel in lane.channels
        and board.lane(lane.lane_id).is_open
        and lane.hours.contains(now, gate.utc_offset)
    }
    if not kinds:
        return None
    pick = max if truck.channel is CustomsChannel.RED else min
    return pick(kinds, key=SCARCITY.__getitem__)


def backlogged(
    kinds: Iterable[LaneKind | None],
    board: Board,
    gate: Gate,
    direction: Direction,
    *,
    now: datetime,
) -> frozenset[LaneKind]:
    """The kinds of lane of `direction` with a backlog: `kinds` (the `lane_kind` of each truck
    waiting to be called) names a kind at least as often as it has lanes open and in their
    hours now."""
    lanes = Counter(
        lane.kind
        for lane in gate.lanes_for(direction)
        if board.lane(lane.lane_id).is_open and lane.hours.contains(now, gate.utc_offset)
    )
    waiting = Counter(kinds)
    return frozenset(kind for kind, count in lanes.items() if waiting[kind] >= count)


def at_barrier(
    board: Board,
    gate: Gate,
    lane: Lane,
    due: Mapping[str, datetime],
    *,
    now: datetime,
    at: datetime,
    besides: str,
) -> int:
    """Trucks (other than `besides`) expected at `at` to be waiting at the barriers of the
    lanes of `lane`'s kind and direction: at the gate by then (a called truck by its due
    time, `due`; any other queued truck is there now) and not started (mean service times)."""
    count = 0
    for other in gate.lanes_for(lane.direction):
        if other.kind is not lane.kind:
            continue
        state = board.lane(other.lane_id)
        for entry in project_lane(other, state, now=now, utc_offset=gate.utc_offset):
            visit_id = entry.truck.visit_id
            if visit_id != besides and due.get(visit_id, now) <= at < entry.expected_start_at:
                count += 1
    return count
