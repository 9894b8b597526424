"""Projections: when each queued truck is expected to start and finish on a lane or at a yard
bay (which carrier trip is expected to take each container: `trips.py`). Expectations use mean
service times and the board's expected times; they are recomputed, never stored as truth.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from lanes.board import Board, LaneBoard, Queued, Truck
from lanes.model import CarrierFleet, DailyHours, Lane
from lanes.policy.hours import fit, stretch

# the signature of hours.fit (a caller may pass an exact, faster equivalent)
Fit = Callable[[DailyHours, datetime, timedelta, timedelta], datetime | None]


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a truck would be served: its expected start and completion."""

    start: datetime
    done: datetime
    ahead: int  # trucks before it at that place (in service included)
    deferred: bool  # it (or a truck ahead of it) waits for the place to (re)open
    overruns: bool = False  # it would finish after the place closes


def lane_slot(
    lane: Lane, state: LaneBoard, truck: Truck, *, now: datetime, utc_offset: timedelta
) -> Slot:
    """Where `truck` would be served on the lane: after the truck in service and the queued
    trucks ahead of it in service order. A truck starts only while the lane is open (one due
    while it is closed waits for it to open) and, once started, is served to the end."""
    cursor = now if state.serving is None else max(now, state.serving.until)
    key = truck.key
    ahead = [e for e in state.queue if e.truck.key < key]
    waits = False  # the lane's hours hold up this truck, or a truck ahead of it
    for entry in ahead:
        start = _start(lane, cursor, utc_offset)[0]
        waits = waits or start > cursor
        cursor = start + entry.service
    start, window = _start(lane, cursor, utc_offset)
    done = start + lane.service_time
    return Slot(
        start,
        done,
        len(ahead) + (state.serving is not None),
        deferred=waits or start > cursor,
        overruns=window is not None and done > window[1],
    )


def project_lane(
    lane: Lane, state: LaneBoard, *, now: datetime, utc_offset: timedelta
) -> tuple[Queued, ...]:
    """The lane's queue with fresh expected times (as `lane_slot` computes them)."""
    cursor = now if state.serving is None else max(now, state.serving.until)
    out = []
    for entry in state.queue:
        start = _start(lane, cursor, utc_offset)[0]
        cursor = start + entry.service
        out.append(replace(entry, expected_start_at=start, expected_done_at=cursor))
    return tuple(out)


def _start(
    lane: Lane, at: datetime, utc_offset: timedelta
) -> tuple[datetime, tuple[datetime, datetime] | None]:
    window = stretch(lane.hours, at, utc_offset)
    return (at if window is None else max(at, window[0])), window


def project_yard(
    board: Board,
    fleet: CarrierFleet,
    *,
    now: datetime,
    utc_offset: timedelta,
    extra: Truck | None = None,
    fit: Fit = fit,
) -> tuple[tuple[Queued, ...], Slot | None]:
    """The yard's handover queue with fresh expected times (each truck at the bay free
    first), and `extra`'s slot. `fit`: `hours.fit` or an exact equivalent."""
    yard, config = board.yard, fleet.yard
    if yard is None or config is None:
        return (), None
    free = [max(now, b.until) for b in yard.bays] + [now] * (yard.bay_count - len(yard.bays))
    heapq.heapify(free)
    queue = list(yard.queue)
    if extra is not None:
        blank = Queued(extra, config.handover, now, now)
        at = next((n for n, e in enumerate(queue) if e.truck.key > extra.key), len(queue))
        queue.insert(at, blank)
    out: list[Queued] = []
    slot: Slot | None = None
    for n, entry in enumerate(queue):
        bay_free = heapq.heappop(free) if free else now
        start = fit(fleet.hours, bay_free, entry.service, utc_offset)
        if start is None:
            out.extend(queue[n:])
            break
        done = start + entry.service
        heapq.heappush(free, done)
        if extra is not None and entry.truck is extra:
            slot = Slot(start, done, len(yard.bays) + n, deferred=start > bay_free)
        out.append(replace(entry, expected_start_at=start, expected_done_at=done))
    return tuple(out), slot


@dataclass(frozen=True, slots=True)
class Trip:
    carrier_id: str
    departs_at: datetime
