"""The orchestrated policy: each truck to the place where it is expected to be done first.

Rules, in order:
- hazmat -> a lane that takes hazmat cargo (whatever its channel);
- red channel -> an inspection bay (another lane that takes red only when no bay can serve it
  within its open hours);
- yellow -> a lane that scans (scanner, or any lane whose channels include yellow);
- green -> any open lane that takes its cargo and channel, and for a container truck an
  autonomous-carrier slot (the tractor hands the container over at the yard and leaves) when
  the yard has room and a carrier trip is expected soon enough;
choosing the EARLIEST EXPECTED COMPLETION (queue in service order, the lane's mean service
time, its open hours: a lane closing before the truck would finish is not eligible, unless
every place would close first), ties to the least scarce place (standard, scanner, hazmat,
inspection, then a carrier slot).
Queues are served by priority (perishable or on time first), then arrival.

Incremental (issue 26, item 3): each lane's expected completions are kept with its state
(`view.GateView`) and the open hours answered from cached bands (`bands.Band`), so a
decision costs a lookup per candidate lane; the carrier trips are projected only when the
carrier slot could be the best or the runner-up, and only up to the truck's own containers.
The decisions are those of `lanes.policy.reference.ReferencePolicy` (the implementation this
replaced), exactly: tests/unit/test_policy_equivalence.py, bench/policy.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from lanes.board import Board, LaneBoard, Queued, Truck
from lanes.model import (
    Assignment,
    BookingStatus,
    CargoClass,
    CustomsChannel,
    Gate,
    Lane,
    Outcome,
)
from lanes.policy.carrier import (
    CARRIER_SCARCITY,
    MAX_CONTAINER_WAIT,
    MAX_PERISHABLE_WAIT,
    Opt,
    carrier_option,
)
from lanes.policy.hours import local_hhmm, stretch
from lanes.policy.plan import Trip, project_lane
from lanes.policy.truck import describe
from lanes.policy.view import SCARCITY, GateView, LaneInfo, LaneSlot

__all__ = [
    "CARRIER_SCARCITY",
    "MAX_CONTAINER_WAIT",
    "MAX_PERISHABLE_WAIT",
    "SCARCITY",
    "OrchestratedPolicy",
]

# A waiting truck is called forward to an idle lane only when that saves at least this much.
REBALANCE_GAIN = timedelta(minutes=1)
_MAX_GATES = 64  # gate views kept (one per gate configuration object)


class OrchestratedPolicy:
    __slots__ = ("_described", "_views")

    def __init__(self) -> None:
        self._views: dict[int, GateView] = {}
        self._described: dict[
            tuple[CustomsChannel, int, frozenset[CargoClass], BookingStatus], str
        ] = {}

    def _view(self, gate: Gate) -> GateView:
        view = self._views.get(id(gate))
        if view is None or view.gate is not gate:
            if len(self._views) >= _MAX_GATES:
                self._views.clear()
            view = self._views[id(gate)] = GateView(gate)
        return view

    def assign(
        self, truck: Truck, board: Board, gate: Gate, *, now: datetime
    ) -> tuple[Assignment, Board]:
        """The truck's place and the board with it queued there (by priority, arrival); a
        truck already on the board is moved. Refused, board unchanged but for its removal,
        when no open lane of its direction takes its cargo and channel."""
        view = self._view(gate)
        board = _without(board, truck.visit_id)
        offset = gate.utc_offset
        candidates = view.candidates(truck)
        key = truck.key
        options = _lane_options(view, candidates, board, key, now)
        rule, pool = _rule(truck, options)
        yard = carrier_option(view, truck, board, gate, pool, now=now)
        carrier: tuple[tuple[Queued, ...], Trip] | None = None
        if yard is not None:
            option, carrier = yard
            pool.append(option)
        if not pool:
            closed = [
                info.lane.lane_id for info in candidates if not view.state(board, info).is_open
            ]
            why = f" (closed: {', '.join(closed)})" if closed else ""
            reason = f"{self._describe(truck)}: no open {truck.direction} lane takes it{why}"
            return Assignment(Outcome.REFUSED, None, reason), board
        in_hours = [o for o in pool if not o[6]]
        if in_hours:
            pool = in_hours
        else:  # every place closes before it would be done: the one done first, overrunning
            rule += " (none can finish before it closes)"
        pool.sort()  # by (done, scarcity, order): the order is unique, the rest never compared
        best = pool[0]
        done, start, chosen = best[10], best[3], best[9]
        trip: Trip | None = None
        if chosen is None:
            assert carrier is not None  # the carrier option comes with its queue and trip
            queue, trip = carrier
            board = board.with_queue(best[7], queue)
        else:
            lane = chosen.lane
            state = view.state(board, chosen)
            entry = Queued(truck, lane.service_time, start, done)
            state = view.project(chosen, _queued(state, entry, key), now)
            board = _with_lane(board, chosen.n, state)
        reason = (
            f"{self._describe(truck)}, priority {truck.priority + 1}: {rule} -> {best[8]}, "
            f"expected start {_hhmm(start, offset)} ({best[4]} ahead), "
            f"done {_hhmm(done, offset)}"
        )
        if trip is not None:
            reason += f"; container leaves {_hhmm(trip.departs_at, offset)}"
        if len(pool) > 1:
            runner = pool[1]
            reason += f"; next best {runner[8]} done {_hhmm(runner[10], offset)}"
        return (
            Assignment(
                outcome=Outcome.ASSIGNED,
                lane_id=None if trip else best[7],
                reason=reason,
                expected_start_at=start,
                expected_done_at=done,
                carrier_slot=None
                if trip is None
                else f"{trip.carrier_id}@{_hhmm(trip.departs_at, offset)}",
            ),
            board,
        )

    def replan(
        self, board: Board, gate: Gate, *, now: datetime
    ) -> tuple[list[tuple[str, Assignment]], Board]:
        """Re-assign every queued truck (not yet in service) that is on a closed lane, on a
        lane whose open hours end (or have ended) before it would start, or promised to a
        carrier out of service; in service order (priority, then arrival). Returns
        (visit_id, new assignment) pairs."""
        offset = gate.utc_offset
        moving: list[tuple[Truck, str]] = []
        for lane in gate.lanes:
            state = board.lane(lane.lane_id)
            if not state.is_open:
                since = (
                    ""
                    if state.changed_at is None
                    else f" at {local_hhmm(state.changed_at, offset)}"
                )
                moving += [(e.truck, f"lane {lane.lane_id} closed{since}") for e in state.queue]
                continue
            hours = stretch(lane.hours, now, offset)
            if hours is None:
                continue
            opens, closes = hours
            planned = {e.truck.visit_id: e.expected_start_at for e in state.queue}
            for e in project_lane(lane, state, now=now, utc_offset=offset):
                # open now: a truck that would start after its hours end; closed by its
                # hours: one planned before they ended (its closing is when), or one that
                # would start after the stretch ahead (planned for 06:00, it stays put)
                told = planned[e.truck.visit_id]
                ended = stretch(lane.hours, told, offset) if opens > now > told else None
                if ended is not None and ended[0] <= told:
                    moving.append(
                        (e.truck, f"lane {lane.lane_id} closes at {local_hhmm(ended[1], offset)}")
                    )
                elif e.expected_start_at >= closes:
                    moving.append(
                        (e.truck, f"lane {lane.lane_id} closes at {local_hhmm(closes, offset)}")
                    )
        if board.yard is not None:
            out = {c.carrier_id for c in board.carriers if c.out_of_service}
            moving += [
                (e.truck, f"carrier {e.carrier_id} out of service")
                for e in board.yard.queue
                if e.carrier_id in out
            ]
        moving.sort(key=lambda item: item[0].key)
        for truck, _ in moving:
            board = board.without(truck.visit_id)
        changes: list[tuple[str, Assignment]] = []
        for truck, why in moving:
            assignment, board = self.assign(truck, board, gate, now=now)
            reason = f"re-planned: {why} -> {assignment.reason}"
            changes.append((truck.visit_id, replace(assignment, reason=reason)))
        return changes, board

    def rebalance(
        self, board: Board, gate: Gate, *, now: datetime
    ) -> tuple[list[tuple[str, Assignment]], Board]:
        """Call a waiting truck forward to a lane standing idle: for each open, idle lane
        with nobody queued, the first truck (priority, then arrival) queued on another lane
        of its direction that it takes and that would now be done at least REBALANCE_GAIN
        sooner is re-assigned (lanes run faster or slower than planned). Returns
        (visit_id, new assignment) pairs."""
        offset = gate.utc_offset
        changes: list[tuple[str, Assignment]] = []
        projected: dict[str, tuple[Queued, ...]] = {}  # lane id -> its queue, planned now

        def plan(other: Lane) -> tuple[Queued, ...]:
            if other.lane_id not in projected:
                state = board.lane(other.lane_id)
                projected[other.lane_id] = project_lane(other, state, now=now, utc_offset=offset)
            return projected[other.lane_id]

        for lane in gate.lanes:
            state = board.lane(lane.lane_id)
            if (
                not state.is_open
                or state.serving is not None
                or state.queue
                or not lane.hours.contains(now, offset)
            ):
                continue
            waiting = sorted(
                (
                    (entry, other)
                    for other in gate.lanes
                    if other.direction is lane.direction and other.lane_id != lane.lane_id
                    for entry in plan(other)
                    if entry.truck.cargo <= lane.accepts and entry.truck.channel in lane.channels
                ),
                key=lambda item: item[0].truck.key,
            )
            for entry, other in waiting:
                if now + lane.service_time + REBALANCE_GAIN > entry.expected_done_at:
                    continue  # the idle lane would not save it enough
                assignment, moved = self.assign(entry.truck, board, gate, now=now)
                done = assignment.expected_done_at
                if (
                    assignment.lane_id in (None, other.lane_id)
                    or done is None
                    or done + REBALANCE_GAIN > entry.expected_done_at
                ):
                    continue
                why = (
                    f"lane {lane.lane_id} is free, done {local_hhmm(done, offset)} instead of "
                    f"{local_hhmm(entry.expected_done_at, offset)} on {other.lane_id}"
                )
                changes.append(
                    (
                        entry.truck.visit_id,
                        replace(assignment, reason=f"re-planned: {why} -> {assignment.reason}"),
                    )
                )
                board = moved
                projected.clear()
                break
        return changes, board

    def _describe(self, truck: Truck) -> str:
        key = (truck.channel, truck.containers, truck.cargo, truck.booking)
        found = self._described.get(key)
        if found is None:
            found = self._described[key] = describe(truck)
        return found


def _lane_options(
    view: GateView,
    candidates: tuple[LaneInfo, ...],
    board: Board,
    key: tuple[int, datetime, str],
    now: datetime,
) -> list[Opt]:
    """Each open candidate lane's option for a truck of service order `key`."""
    options: list[Opt] = []
    idle: dict[tuple[int, timedelta], LaneSlot] = {}
    for info in candidates:
        state = view.state(board, info)
        if not state.is_open:
            continue
        if state.serving is None and not state.queue:  # idle: same as an idle twin's
            found = idle.get(info.twins)
            if found is None:
                found = idle[info.twins] = view.slot(info, state, key, now)
            start, done, ahead, deferred, overruns, stamp = found
        else:
            start, done, ahead, deferred, overruns, stamp = view.slot(info, state, key, now)
        options.append(
            (
                stamp,
                info.scarcity,
                info.n,
                start,
                ahead,
                deferred,
                overruns,
                info.lane.lane_id,
                info.what,
                info,
                done,
            )
        )
    return options


def _queued(state: LaneBoard, entry: Queued, key: tuple[int, datetime, str]) -> LaneBoard:
    """The lane with `entry` queued in service order (`Board.assigned` for a lane)."""
    queue = state.queue
    at = next((n for n, e in enumerate(queue) if e.truck.key > key), len(queue))
    return LaneBoard(
        state.lane_id,
        state.is_open,
        state.changed_at,
        state.serving,
        (*queue[:at], entry, *queue[at:]),
    )


def _with_lane(board: Board, n: int, state: LaneBoard) -> Board:
    """`board` with `state` for its lane (at position `n` when the board keeps the gate's
    order, as `Board.for_gate` makes it)."""
    lanes = board.lanes
    if n < len(lanes) and lanes[n].lane_id == state.lane_id:
        lanes = (*lanes[:n], state, *lanes[n + 1 :])
    else:
        lanes = tuple(state if old.lane_id == state.lane_id else old for old in lanes)
    return Board(board.gate_id, lanes, board.carriers, board.yard)


def _hhmm(at: datetime, utc_offset: timedelta) -> str:
    """`local_hhmm`, without strftime; a time already in a zone of the gate's offset (a fixed
    one) is read as it is."""
    zone = at.tzinfo
    if isinstance(zone, timezone) and zone.utcoffset(None) == utc_offset:
        return f"{at.hour:02d}:{at.minute:02d}"
    local = at.astimezone(UTC) + utc_offset
    return f"{local.hour:02d}:{local.minute:02d}"


def _without(board: Board, visit_id: str) -> Board:
    """`board.without(visit_id)`; the common case (a truck on no queue) without a copy."""
    for lane in board.lanes:
        for entry in lane.queue:
            if entry.truck.visit_id == visit_id:
                return board.without(visit_id)
    if board.yard is not None:
        for entry in board.yard.queue:
            if entry.truck.visit_id == visit_id:
                return board.without(visit_id)
    return board


def _rule(truck: Truck, options: list[Opt]) -> tuple[str, list[Opt]]:
    """The rule that applies to the truck and the options it allows."""
    if CargoClass.HAZMAT in truck.cargo:
        return "hazmat -> lane taking hazmat, earliest completion", options
    if truck.channel is CustomsChannel.RED:
        bays = [o for o in options if o[9] is not None and o[9].inspection and not (o[5] or o[6])]
        if bays:
            return "red channel -> inspection bay, earliest completion", bays
        rule = "red channel, no inspection bay can serve it now -> earliest lane taking red"
        return rule, options
    if truck.channel is CustomsChannel.YELLOW:
        return "yellow channel -> lane that scans, earliest completion", options
    return "green channel -> earliest completion", options
