"""The carrier slot the orchestrated policy weighs for a green container truck: room in the
yard, a carrier running, every container of the truck expected on a trip soon enough; its
trips projected only when the slot could change the decision (`trips.py`)."""

from __future__ import annotations

import heapq
from dataclasses import replace
from datetime import datetime, timedelta

from lanes.board import Board, Queued, Truck, YardBoard
from lanes.model import CargoClass, CarrierFleet, CustomsChannel, DailyHours, Gate
from lanes.policy.plan import Slot, Trip
from lanes.policy.trips import leaves_after, trips_of
from lanes.policy.view import GateView, LaneInfo

CARRIER_SCARCITY = 4
# How long a container may be expected to wait at the yard for its carrier trip: beyond it
# the truck gets a lane instead. Perishable containers wait less (fruit in reefers).
MAX_CONTAINER_WAIT = timedelta(minutes=45)
MAX_PERISHABLE_WAIT = timedelta(minutes=20)

# An option: (done as a POSIX timestamp, scarcity, order, start, ahead, deferred, overruns,
# place, what, lane info or None for the carrier slot, done). Ranked by its first three fields,
# as the reference's rank() (the float orders the instants as the datetimes, faster).
Opt = tuple[float, int, int, datetime, int, bool, bool, str, str, LaneInfo | None, datetime]


def carrier_eligible(truck: Truck, board: Board, gate: Gate, *, now: datetime) -> bool:
    """Whether a carrier slot is open to the truck at all: a green container truck without
    hazardous cargo, room for its containers in the yard, and a carrier running now (in
    service, not on charge)."""
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
        return False
    charging = {c.carrier_id: c.charging for c in fleet.carriers}
    return any(
        not c.out_of_service
        and c.carrier_id in charging
        and not _charging(charging[c.carrier_id], now, gate)
        for c in board.carriers
    )


def carrier_option(
    view: GateView,
    truck: Truck,
    board: Board,
    gate: Gate,
    lanes: list[Opt],
    *,
    now: datetime,
) -> tuple[Opt, tuple[tuple[Queued, ...], Trip]] | None:
    """A carrier slot for a green container truck: room in the yard, a carrier running
    now, and every container of the truck expected on a trip soon enough. Its trips are
    projected only when it could change the decision: when fewer than two lanes within
    their hours are done no later than it (it would be the best or the runner-up, or the
    only place within hours); otherwise it is left out, which changes nothing."""
    fleet = gate.fleet
    yard = board.yard
    if fleet is None or yard is None or not carrier_eligible(truck, board, gate, now=now):
        return None
    queue, slot = _project_yard(view, yard, fleet, truck, now=now)
    if slot is None:
        return None
    done = slot.done.timestamp()
    earlier = sum(1 for o in lanes if not o[6] and o[0] <= done)
    if earlier >= 2:
        return None  # two lanes rank before it whatever its trips: it cannot show
    refs = [f"{truck.visit_id}/{n + 1}" for n in range(truck.containers)]
    wait = MAX_PERISHABLE_WAIT if truck.perishable else MAX_CONTAINER_WAIT
    latest = slot.done + wait
    entry = next(e for e in queue if e.truck is truck)
    if leaves_after(board, fleet, queue, view.charging, mine=entry, limit=latest, now=now):
        return None  # its trip would leave too late: the slot is not offered
    trips = trips_of(
        board,
        fleet,
        queue,
        refs,
        now=now,
        hours=view.fleet_hours,
        charging=view.charging,
        known=view.departures,
        limit=latest.timestamp(),  # a trip leaving later would not do
    )
    mine = [trips.get(ref) for ref in refs]
    if any(t is None or t.departs_at > latest for t in mine):
        return None
    first = min((t for t in mine if t is not None), key=lambda t: t.departs_at)
    queue = tuple(
        replace(e, carrier_id=first.carrier_id, departs_at=first.departs_at)
        if e.truck is truck
        else e
        for e in queue
    )
    what = f"carrier slot {first.carrier_id} via yard {yard.yard_id}"
    option: Opt = (
        done,
        CARRIER_SCARCITY,
        len(gate.lanes),
        slot.start,
        slot.ahead,
        slot.deferred,
        slot.overruns,
        yard.yard_id,
        what,
        None,
        slot.done,
    )
    return option, (queue, first)


def _project_yard(
    view: GateView, yard: YardBoard, fleet: CarrierFleet, extra: Truck, *, now: datetime
) -> tuple[tuple[Queued, ...], Slot | None]:
    """`plan.project_yard(board, fleet, now=now, utc_offset=..., extra=extra)`, exactly:
    the yard's handover queue with `extra` in it and fresh expected times, and its slot;
    the fleet's hours from the gate's band, the entries made directly."""
    config = fleet.yard
    if config is None:
        return (), None
    free = [max(now, b.until) for b in yard.bays] + [now] * (yard.bay_count - len(yard.bays))
    heapq.heapify(free)
    queue = list(yard.queue)
    key = extra.key
    at = next((n for n, e in enumerate(queue) if e.truck.key > key), len(queue))
    queue.insert(at, Queued(extra, config.handover, now, now))
    fit, hours, offset = view.fit, fleet.hours, view.gate.utc_offset
    out: list[Queued] = []
    slot: Slot | None = None
    for n, entry in enumerate(queue):
        bay_free = heapq.heappop(free) if free else now
        start = fit(hours, bay_free, entry.service, offset)
        if start is None:
            out.extend(queue[n:])
            break
        done = start + entry.service
        heapq.heappush(free, done)
        if n == at:
            slot = Slot(start, done, len(yard.bays) + n, deferred=start > bay_free)
        out.append(
            Queued(entry.truck, entry.service, start, done, entry.carrier_id, entry.departs_at)
        )
    return tuple(out), slot


def _charging(windows: DailyHours, at: datetime, gate: Gate) -> bool:
    """On charge at `at`; no windows at all means never on charge (not "always")."""
    return bool(windows.windows) and windows.contains(at, gate.utc_offset)
