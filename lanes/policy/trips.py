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

from lanes.board import Board, Queued
from lanes.model import CarrierFleet, Direction
from lanes.policy.bands import Band, fit_avoiding
from lanes.policy.plan import Trip

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
    known: dict[tuple[str, datetime, tzinfo | None], datetime | None],
) -> dict[str, Trip]:
    """The trips of the containers `wanted` (refs `visit_id/n`) that a carrier can take;
    `hours`: the fleet's operating hours, `charging`: each carrier's charging windows,
    `known`: the earliest departures already worked out, by (carrier, earliest, its zone),
    kept from one decision to the next (a carrier's free time recurs until it changes)."""
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
    queues = list(ready.values())
    for pending in queues:
        pending.sort(reverse=True)  # pop() gives the earliest
    # (free at, carrier id), in that order: the order the full projection sorts them in
    free = sorted(
        (now if c.back_at is None else max(now, c.back_at), c.carrier_id)
        for c in board.carriers
        if not c.out_of_service and c.carrier_id in charging
    )
    missing = set(wanted)
    trips: dict[str, Trip] = {}
    round_trip, per_trip = fleet.round_trip, fleet.containers_per_trip
    left = sum(len(p) for p in queues)
    while missing and free and left:
        first: datetime | None = None  # min of the heads, the first one on a tie (as `min`)
        for pending in queues:
            if pending and (first is None or pending[-1][0] < first):
                first = pending[-1][0]
        assert first is not None
        best: tuple[datetime, str] | None = None
        chosen = -1
        for n, (at, carrier_id) in enumerate(free):
            earliest = first if first > at else at  # max(at, first)
            if best is not None and earliest >= best[0]:
                break  # the rest are free later still: none can leave sooner
            key = (carrier_id, earliest, earliest.tzinfo)
            if key in known:
                go = known[key]
            else:
                go = known[key] = fit_avoiding(hours, charging[carrier_id], earliest, round_trip)
            if go is not None and (best is None or (go, carrier_id) < best):
                best, chosen = (go, carrier_id), n
        if best is None:
            break
        go, carrier_id = best
        for pending in queues:
            for _ in range(per_trip):
                if pending and pending[-1][0] <= go:
                    ref = pending.pop()[1]
                    left -= 1
                    if ref in missing:
                        missing.discard(ref)
                        trips[ref] = Trip(carrier_id, go)
        del free[chosen]
        insort(free, (go + round_trip, carrier_id))
    if len(known) > _MAX_KNOWN:
        known.clear()
    return trips
