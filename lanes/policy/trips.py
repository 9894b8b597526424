"""Which carrier trip is expected to take a truck's containers: the containers waiting, at a
bay and promised (the projected yard queue), in the order they are ready; each trip leaves
with the earliest carrier able to go (running, not charging during the round trip, within
operating hours) and takes up to `containers_per_trip` of each direction ready by then.

The projection stops as soon as the truck's own containers have their trips (the trips
before them do not depend on what comes after), keeps the carriers in order of when they are
free instead of sorting them for every trip, and answers the fleet's hours from the gate's
cached bands, remembering each carrier's earliest departure from one decision to the next.
Same trips as the full projection (`reference.project_trips`) for those containers, exactly.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Collection, Mapping
from datetime import datetime, tzinfo
from heapq import heapreplace
from math import inf

from lanes.board import Board, Queued, YardBoard
from lanes.model import CarrierFleet, Direction
from lanes.policy.bands import Band, fit_avoiding
from lanes.policy.plan import Trip

# (POSIX timestamp, ref or carrier id, the datetime): a float orders and equals the times as
# the datetimes do, microsecond for microsecond, and compares much faster
_Stamped = tuple[float, str, datetime]
_MAX_KNOWN = 65_536  # departures kept; beyond, they are worked out again (a bound)


def trips_of(
    board: Board,
    fleet: CarrierFleet,
    handovers: tuple[Queued, ...],
    wanted: Collection[str],
    *,
    now: datetime,
    hours: Band,
    charging: Mapping[str, Band],
    known: dict[tuple[str, float, tzinfo | None], tuple[float, datetime] | None],
    mine: tuple[Direction, float, int] | None = None,
    limit: float = inf,
) -> dict[str, Trip]:
    """The trips of the containers `wanted` (refs `visit_id/n`) that a carrier can take;
    `hours`: the fleet's operating hours, `charging`: each carrier's charging windows,
    `known`: the earliest departures already worked out, by (carrier, earliest, its zone),
    kept from one decision to the next (a carrier's free time recurs until it changes).

    With `limit` (a POSIX timestamp), the trips that would leave after it are not worked
    out: a wanted container left without a trip would leave after `limit`, if at all. The
    wanted containers' (direction, ready time, count) `mine` then also bounds their
    departure before any trip is projected: no trip takes more than `containers_per_trip`
    of a direction, the containers ready before them leave first, and a carrier makes at
    most one trip every round trip from when it is free; so when the trip that could take
    the last of them leaves after `limit` at the earliest, none is worked out."""
    yard = board.yard
    if yard is None:
        return {}
    ready, free = _ready(board, yard, handovers, charging, now=now)
    if mine is not None and limit < inf and free and _earliest(ready, free, mine, fleet) > limit:
        return {}
    queues = list(ready.values())
    missing = set(wanted)
    trips: dict[str, Trip] = {}
    round_trip, per_trip = fleet.round_trip, fleet.containers_per_trip
    left = sum(len(p) for p in queues)
    while missing and free and left:
        head: _Stamped | None = None  # min of the heads, the first on a tie
        for pending in queues:
            if pending and (head is None or pending[-1][0] < head[0]):
                head = pending[-1]
        assert head is not None
        first, first_at = head[0], head[2]
        best: _Stamped | None = None
        chosen = -1
        for n, (free_at, carrier_id, free_time) in enumerate(free):
            at, at_time = (first, first_at) if first > free_at else (free_at, free_time)  # max
            if best is not None and at >= best[0]:
                break  # the rest are free later still: none can leave sooner
            key = (carrier_id, at, at_time.tzinfo)
            if key in known:
                go = known[key]
            else:
                leaves = fit_avoiding(hours, charging[carrier_id], at_time, round_trip)
                go = known[key] = None if leaves is None else (leaves.timestamp(), leaves)
            if go is not None and (best is None or (go[0], carrier_id) < best[:2]):
                best, chosen = (go[0], carrier_id, go[1]), n
        if best is None:
            break
        go_at, carrier_id, leaves = best
        if go_at > limit:
            break  # this trip and every later one leave after the limit
        for pending in queues:
            for _ in range(per_trip):
                if pending and pending[-1][0] <= go_at:
                    ref = pending.pop()[1]
                    left -= 1
                    if ref in missing:
                        missing.discard(ref)
                        trips[ref] = Trip(carrier_id, leaves)
        del free[chosen]
        back = leaves + round_trip
        insort(free, (back.timestamp(), carrier_id, back))
    if len(known) > _MAX_KNOWN:
        known.clear()
    return trips


def _ready(
    board: Board,
    yard: YardBoard,
    handovers: tuple[Queued, ...],
    charging: Mapping[str, Band],
    *,
    now: datetime,
) -> tuple[dict[Direction, list[_Stamped]], list[_Stamped]]:
    """The containers of each direction in the order they are ready (the earliest last), and
    the carriers in the order they are free (the earliest first)."""
    stamp = now.timestamp()
    ready: dict[Direction, list[_Stamped]] = {d: [] for d in Direction}
    for c in yard.waiting:
        at = c.ready_at
        ready[c.direction].append(
            (at.timestamp(), c.ref, at) if at > now else (stamp, c.ref, now)  # max(now, at)
        )
    for entry, done in [(b.entry, max(now, b.until)) for b in yard.bays] + [
        (e, e.expected_done_at) for e in handovers
    ]:
        for n in range(entry.truck.containers):
            ref = f"{entry.truck.visit_id}/{n + 1}"
            ready[entry.truck.direction].append((done.timestamp(), ref, done))
    for pending in ready.values():
        pending.sort(reverse=True)  # pop() gives the earliest
    # (free at, carrier id, the datetime): the order the full projection sorts them in
    free: list[_Stamped] = []
    for carrier in board.carriers:
        if not carrier.out_of_service and carrier.carrier_id in charging:
            back = carrier.back_at
            at = now if back is None else max(now, back)
            free.append((at.timestamp(), carrier.carrier_id, at))
    free.sort()
    return ready, free


def _earliest(
    ready_by: dict[Direction, list[_Stamped]],
    free: list[_Stamped],
    mine: tuple[Direction, float, int],
    fleet: CarrierFleet,
) -> float:
    """A lower bound on when the last of the wanted containers can leave: not before they
    are ready, nor before the trip that can take the last of them (the containers of their
    direction ready earlier leave first, at most `containers_per_trip` a trip), and trip k
    (from 0, in order of departure) leaves no sooner than the k-th earliest of the times
    each carrier could leave if it left whenever free: its free time plus a whole number of
    round trips. `ready_by`: each direction's containers, the earliest last."""
    direction, ready, count = mine
    before = 0
    for stamp, _, _ in reversed(ready_by[direction]):
        if stamp >= ready:
            break
        before += 1
    trips = (before + count - 1) // fleet.containers_per_trip
    times = [stamp for stamp, _, _ in free]  # sorted: a heap
    round_trip = fleet.round_trip.total_seconds()
    for _ in range(trips):
        heapreplace(times, times[0] + round_trip)
    return max(ready, times[0])
