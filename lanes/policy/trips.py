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
from heapq import heapify, heapreplace
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
    limit: float = inf,
) -> dict[str, Trip]:
    """The trips of the containers `wanted` (refs `visit_id/n`) that a carrier can take;
    `hours`: the fleet's operating hours, `charging`: each carrier's charging windows,
    `known`: the earliest departures already worked out, by (carrier, earliest, its zone),
    kept from one decision to the next (a carrier's free time recurs until it changes).

    With `limit` (a POSIX timestamp), the trips that would leave after it are not worked
    out: a wanted container left without a trip would leave after `limit`, if at all."""
    yard = board.yard
    if yard is None:
        return {}
    ready, free = _ready(board, yard, handovers, charging, now=now)
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


def leaves_after(
    board: Board,
    fleet: CarrierFleet,
    handovers: tuple[Queued, ...],
    charging: Mapping[str, Band],
    *,
    mine: Queued,
    limit: datetime,
    now: datetime,
) -> bool:
    """Whether the last container of `mine` (in `handovers`) is bound to leave after
    `limit`, if at all, by a lower bound on its trip, without projecting the trips: not
    before it is ready, nor before the trip that can take it (the containers of its
    direction ready earlier leave first, at most `containers_per_trip` a trip), and trip k
    (from 0, in order of departure) leaves no sooner than the k-th earliest of the times
    the carriers could leave if each left whenever free: its free time plus a whole number
    of round trips. As `trips_of` would find it; only far cheaper."""
    yard = board.yard
    if yard is None:
        return False
    direction, ready = mine.truck.direction, mine.expected_done_at
    before = 0
    if now < ready:  # else nothing is ready before it (all are ready at `now` at the earliest)
        for c in yard.waiting:
            if c.direction is direction and c.ready_at < ready:
                before += 1
        for b in yard.bays:
            if b.entry.truck.direction is direction and b.until < ready:
                before += b.entry.truck.containers
    for e in handovers:
        if e.truck.direction is direction and e.expected_done_at < ready:
            before += e.truck.containers
    times = [
        now if c.back_at is None or c.back_at < now else c.back_at
        for c in board.carriers
        if not c.out_of_service and c.carrier_id in charging
    ]
    if not times:
        return False
    heapify(times)
    round_trip = fleet.round_trip
    for _ in range((before + mine.truck.containers - 1) // fleet.containers_per_trip):
        heapreplace(times, times[0] + round_trip)
    return ready > limit or times[0] > limit
