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
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from lanes.board import Board, Queued, Truck
from lanes.model import (
    Assignment,
    CargoClass,
    CustomsChannel,
    DailyHours,
    Gate,
    Lane,
    LaneKind,
    Outcome,
)
from lanes.policy.hours import local_hhmm, stretch
from lanes.policy.plan import Slot, Trip, lane_slot, project_lane, project_trips, project_yard
from lanes.policy.truck import describe

SCARCITY = {LaneKind.STANDARD: 0, LaneKind.SCANNER: 1, LaneKind.HAZMAT: 2, LaneKind.INSPECTION: 3}
CARRIER_SCARCITY = 4
# How long a container may be expected to wait at the yard for its carrier trip: beyond it
# the truck gets a lane instead. Perishable containers wait less (fruit in reefers).
MAX_CONTAINER_WAIT = timedelta(minutes=45)
MAX_PERISHABLE_WAIT = timedelta(minutes=20)
# A waiting truck is called forward to an idle lane only when that saves at least this much.
REBALANCE_GAIN = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class _Option:
    place: str  # lane id or yard id
    what: str  # "standard lane HN-E1", "carrier slot AC-3 at the yard"
    slot: Slot
    scarcity: int
    order: int  # position in the gate's configuration
    queue: tuple[Queued, ...] | None = None  # the yard's queue with the truck, re-projected
    trip: Trip | None = None

    def rank(self) -> tuple[datetime, int, int]:
        return (self.slot.done, self.scarcity, self.order)


class OrchestratedPolicy:
    __slots__ = ()

    def assign(
        self, truck: Truck, board: Board, gate: Gate, *, now: datetime
    ) -> tuple[Assignment, Board]:
        """The truck's place and the board with it queued there (by priority, arrival); a
        truck already on the board is moved. Refused, board unchanged but for its removal,
        when no open lane of its direction takes its cargo and channel."""
        board = board.without(truck.visit_id)
        offset = gate.utc_offset
        lanes = [
            (n, lane)
            for n, lane in enumerate(gate.lanes)
            if lane.direction is truck.direction
            and truck.cargo <= lane.accepts
            and truck.channel in lane.channels
        ]
        options: list[_Option] = []
        for n, lane in lanes:
            if not board.lane(lane.lane_id).is_open:
                continue
            slot = lane_slot(lane, board.lane(lane.lane_id), truck, now=now, utc_offset=offset)
            what = f"{lane.kind} lane {lane.lane_id}"
            options.append(_Option(lane.lane_id, what, slot, SCARCITY[lane.kind], n))
        rule, pool = _rule(truck, options, {lane.lane_id: lane for _, lane in lanes})
        carrier = self._carrier_option(truck, board, gate, now=now)
        if carrier is not None:
            pool.append(carrier)
        if not pool:
            closed = [lane.lane_id for _, lane in lanes if not board.lane(lane.lane_id).is_open]
            why = f" (closed: {', '.join(closed)})" if closed else ""
            reason = f"{describe(truck)}: no open {truck.direction} lane takes it{why}"
            return Assignment(Outcome.REFUSED, None, reason), board
        in_hours = [o for o in pool if not o.slot.overruns]
        if in_hours:
            pool = in_hours
        else:  # every place closes before it would be done: the one done first, overrunning
            rule += " (none can finish before it closes)"
        pool.sort(key=_Option.rank)
        best = pool[0]
        if best.queue is not None:
            board = board.with_queue(best.place, best.queue)
        else:
            lane = next(lane for _, lane in lanes if lane.lane_id == best.place)
            entry = Queued(truck, lane.service_time, best.slot.start, best.slot.done)
            board = board.assigned(entry, place=lane.lane_id)
            queue = project_lane(lane, board.lane(lane.lane_id), now=now, utc_offset=offset)
            board = board.with_queue(lane.lane_id, queue)
        reason = (
            f"{describe(truck)}, priority {truck.priority + 1}: {rule} -> {best.what}, "
            f"expected start {local_hhmm(best.slot.start, offset)} ({best.slot.ahead} ahead), "
            f"done {local_hhmm(best.slot.done, offset)}"
        )
        if best.trip is not None:
            reason += f"; container leaves {local_hhmm(best.trip.departs_at, offset)}"
        if len(pool) > 1:
            runner = pool[1]
            reason += f"; next best {runner.what} done {local_hhmm(runner.slot.done, offset)}"
        return (
            Assignment(
                outcome=Outcome.ASSIGNED,
                lane_id=None if best.trip else best.place,
                reason=reason,
                expected_start_at=best.slot.start,
                expected_done_at=best.slot.done,
                carrier_slot=None
                if best.trip is None
                else f"{best.trip.carrier_id}@{local_hhmm(best.trip.departs_at, offset)}",
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
            queue = project_lane(lane, state, now=now, utc_offset=offset)
            hours = stretch(lane.hours, now, offset)
            if hours is None:
                continue
            closes = hours[1] if hours[0] <= now else now
            moving += [
                (e.truck, f"lane {lane.lane_id} closes at {local_hhmm(closes, offset)}")
                for e in queue
                if e.expected_start_at >= closes
            ]
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

    def _carrier_option(
        self, truck: Truck, board: Board, gate: Gate, *, now: datetime
    ) -> _Option | None:
        """A carrier slot for a green container truck: room in the yard, a carrier running
        now, and every container of the truck expected on a trip soon enough."""
        fleet = gate.fleet
        yard = board.yard
        if (
            fleet is None
            or fleet.yard is None
            or yard is None
            or truck.containers == 0
            or truck.channel is not CustomsChannel.GREEN
            or CargoClass.HAZMAT in truck.cargo
            or yard.containers_planned() + truck.containers > yard.capacity
        ):
            return None
        charging = {c.carrier_id: c.charging for c in fleet.carriers}
        running = [
            c
            for c in board.carriers
            if not c.out_of_service
            and c.carrier_id in charging
            and not _charging(charging[c.carrier_id], now, gate)
        ]
        if not running:
            return None
        queue, slot = project_yard(board, fleet, now=now, utc_offset=gate.utc_offset, extra=truck)
        if slot is None:
            return None
        trips = project_trips(board, fleet, queue, now=now, utc_offset=gate.utc_offset)
        mine = [trips.get(f"{truck.visit_id}/{n + 1}") for n in range(truck.containers)]
        wait = MAX_PERISHABLE_WAIT if truck.perishable else MAX_CONTAINER_WAIT
        if any(t is None or t.departs_at > slot.done + wait for t in mine):
            return None
        first = min((t for t in mine if t is not None), key=lambda t: t.departs_at)
        queue = tuple(
            replace(e, carrier_id=first.carrier_id, departs_at=first.departs_at)
            if e.truck is truck
            else e
            for e in queue
        )
        what = f"carrier slot {first.carrier_id} via yard {yard.yard_id}"
        return _Option(yard.yard_id, what, slot, CARRIER_SCARCITY, len(gate.lanes), queue, first)


def _charging(windows: DailyHours, at: datetime, gate: Gate) -> bool:
    """On charge at `at`; no windows at all means never on charge (not "always")."""
    return bool(windows.windows) and windows.contains(at, gate.utc_offset)


def _rule(
    truck: Truck, options: list[_Option], lanes: dict[str, Lane]
) -> tuple[str, list[_Option]]:
    """The rule that applies to the truck and the options it allows."""
    if CargoClass.HAZMAT in truck.cargo:
        return "hazmat -> lane taking hazmat, earliest completion", list(options)
    if truck.channel is CustomsChannel.RED:
        bays = [
            o
            for o in options
            if lanes[o.place].kind is LaneKind.INSPECTION
            and not (o.slot.deferred or o.slot.overruns)
        ]
        if bays:
            return "red channel -> inspection bay, earliest completion", bays
        rule = "red channel, no inspection bay can serve it now -> earliest lane taking red"
        return rule, list(options)
    if truck.channel is CustomsChannel.YELLOW:
        return "yellow channel -> lane that scans, earliest completion", list(options)
    return "green channel -> earliest completion", list(options)
