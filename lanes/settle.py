"""The live board between lane events: trucks and carriers are taken to follow their plan.

The orchestrator learns what happens at the gate from lane events (lane-entry and exit
cameras, the fleet). Where none has come, time still passes: `settle` moves the board to
`now` as planned: a truck in a lane past its expected end has left, the next in the queue
entered when the lane came free (not before its planned start), a handover past its end left
its containers in the yard, and a carrier at the yard, running and not charging, took the
waiting containers. A later event that says otherwise (a truck seen entering another lane)
still applies: the board follows the events it gets. Pure: `now` is an argument.
"""

from __future__ import annotations

from datetime import datetime

from lanes.board import Board, InService, Queued
from lanes.model import Gate


def settle(board: Board, gate: Gate, *, now: datetime) -> Board:
    for lane in gate.lanes:
        board = _settle_place(board, lane.lane_id, 1, now)
    if board.yard is not None:
        board = _settle_place(board, board.yard.yard_id, board.yard.bay_count, now)
        board = _settle_carriers(board, gate, now)
    return board


def _settle_place(board: Board, place: str, capacity: int, now: datetime) -> Board:
    free_since: datetime | None = None
    while True:
        serving = _serving(board, place)
        done = [s for s in serving if s.until <= now]
        if done:
            first = min(done, key=lambda s: (s.until, s.entry.truck.visit_id))
            board = board.truck_left(first.entry.truck.visit_id, first.until)
            free_since = first.until
            continue
        queue = _queue(board, place)
        if not queue or len(serving) >= capacity or not _is_open(board, place):
            return board
        nxt = queue[0]
        start = (
            nxt.expected_start_at if free_since is None else max(free_since, nxt.expected_start_at)
        )
        if start > now:
            return board
        board = board.truck_entered(nxt.truck.visit_id, place, start)


def _settle_carriers(board: Board, gate: Gate, now: datetime) -> Board:
    fleet = gate.fleet
    if fleet is None or board.yard is None:
        return board
    charging = {c.carrier_id: c.charging for c in fleet.carriers}
    for carrier in board.carriers:
        if carrier.back_at is not None and carrier.back_at <= now:
            board = board.carrier_arrived(carrier.carrier_id, carrier.back_at)
    for carrier in sorted(board.carriers, key=lambda c: (c.changed_at or now, c.carrier_id)):
        yard = board.yard
        if yard is None or not yard.waiting:
            break
        if carrier.out_of_service or carrier.back_at is not None:
            continue
        hours = charging.get(carrier.carrier_id)
        if hours is not None and hours.contains(now, gate.utc_offset):
            continue
        ready = min(c.ready_at for c in yard.waiting)
        at = max(ready, carrier.changed_at or ready)
        if at + yard.round_trip <= now:  # a whole trip already done since: count it done
            board = board.carrier_departed(carrier.carrier_id, at)
            board = board.carrier_arrived(carrier.carrier_id, at + yard.round_trip)
        else:
            board = board.carrier_departed(carrier.carrier_id, at)
    return board


def _serving(board: Board, place: str) -> list[InService]:
    if board.yard is not None and place == board.yard.yard_id:
        return list(board.yard.bays)
    serving = board.lane(place).serving
    return [] if serving is None else [serving]


def _queue(board: Board, place: str) -> tuple[Queued, ...]:
    if board.yard is not None and place == board.yard.yard_id:
        return board.yard.queue
    return board.lane(place).queue


def _is_open(board: Board, place: str) -> bool:
    if board.yard is not None and place == board.yard.yard_id:
        return True
    return board.lane(place).is_open
