"""The orchestrated policy as it was before the incremental one (issue 26, item 3): every
candidate lane's queue projected on each call, the yard and the carrier trips projected in
full. Kept as the REFERENCE the equivalence tests and `bench/policy.py` compare the live
policy (`lanes.policy.orchestrated.OrchestratedPolicy`) with, decision for decision; nothing
on the live path, in the simulation or in the replay uses it. Only `assign` differs: `replan`
and `rebalance` are the live policy's, calling this `assign`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from lanes.board import Board, Queued, Truck
from lanes.model import (
    Assignment,
    CargoClass,
    CarrierFleet,
    CustomsChannel,
    Direction,
    Gate,
    Lane,
    LaneKind,
    Outcome,
)
from lanes.policy.carrier import carrier_eligible
from lanes.policy.hours import fit_avoiding, local_hhmm
from lanes.policy.orchestrated import (
    CARRIER_SCARCITY,
    MAX_CONTAINER_WAIT,
    MAX_PERISHABLE_WAIT,
    SCARCITY,
    OrchestratedPolicy,
)
from lanes.policy.plan import Slot, Trip, lane_slot, project_lane, project_yard
from lanes.policy.truck import describe


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


class ReferencePolicy(OrchestratedPolicy):
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

    def _carrier_option(
        self, truck: Truck, board: Board, gate: Gate, *, now: datetime
    ) -> _Option | None:
        """A carrier slot for a green container truck: room in the yard, a carrier running
        now, and every container of the truck expected on a trip soon enough."""
        fleet = gate.fleet
        yard = board.yard
        if fleet is None or yard is None or not carrier_eligible(truck, board, gate, now=now):
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


def project_trips(
    board: Board,
    fleet: CarrierFleet,
    handovers: tuple[Queued, ...],
    *,
    now: datetime,
    utc_offset: timedelta,
) -> dict[str, Trip]:
    """Which trip is expected to take each container (by ref `visit_id/n`): the containers
    waiting, at a bay and promised (`handovers`: the projected yard queue), in the order they
    are ready; each trip leaves with the earliest carrier able to go (running, not charging
    during the round trip, within operating hours) and takes up to `containers_per_trip` of
    each direction ready by then. Containers no carrier can take are left out."""
    yard = board.yard
    if yard is None:
        return {}
    ready: dict[Direction, list[tuple[datetime, str]]] = {d: [] for d in Direction}
    for c in yard.waiting:
        ready[c.direction].append((max(now, c.ready_at), c.ref))
    for entry, done in [(b.entry, max(now, b.until)) for b in yard.bays] + [
        (e, e.expected_done_at) for e in handovers
    ]:
        for n in range(entry.truck.containers):
            ready[entry.truck.direction].append((done, f"{entry.truck.visit_id}/{n + 1}"))
    for pending in ready.values():
        pending.sort(reverse=True)  # pop() gives the earliest
    charging = {c.carrier_id: c.charging for c in fleet.carriers}
    free = {
        c.carrier_id: now if c.back_at is None else max(now, c.back_at)
        for c in board.carriers
        if not c.out_of_service and c.carrier_id in charging
    }
    trips: dict[str, Trip] = {}
    while any(ready.values()) and free:
        first = min(p[-1][0] for p in ready.values() if p)
        best: tuple[datetime, str] | None = None
        for carrier_id, at in sorted(free.items(), key=lambda item: (item[1], item[0])):
            earliest = max(at, first)
            if best is not None and earliest >= best[0]:
                break  # the rest are free later still: none can leave sooner
            go = fit_avoiding(
                fleet.hours, charging[carrier_id], earliest, fleet.round_trip, utc_offset
            )
            if go is not None and (best is None or (go, carrier_id) < best):
                best = (go, carrier_id)
        if best is None:
            break
        go, carrier_id = best
        for pending in ready.values():
            for _ in range(fleet.containers_per_trip):
                if pending and pending[-1][0] <= go:
                    trips[pending.pop()[1]] = Trip(carrier_id, go)
        free[carrier_id] = go + fleet.round_trip
    return trips
