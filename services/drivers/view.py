"""What a driver's page shows, truck by truck, from the waiting areas' queue and the board:
only that truck's own facts (position, expected call time, its call), never another's."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from lanes.board import Board
from lanes.model import Direction, Gate
from lanes.policy.callforward import AreaQueue, PlaceLost, Waiting
from lanes.policy.hours import local_hhmm
from lanes.values import zone_name


def _headway(gate: Gate, board: Board, direction: Direction, now: datetime) -> timedelta:
    """Mean time between two calls of a direction when every open lane is busy: the mean
    service time over the number of open lanes (a rough estimate: no priorities to come)."""
    lanes = [
        lane
        for lane in gate.lanes_for(direction)
        if board.lane(lane.lane_id).is_open and lane.hours.contains(now, gate.utc_offset)
    ]
    if not lanes:
        return timedelta(minutes=5)
    mean = sum((lane.service_time for lane in lanes), timedelta(0)) / len(lanes)
    return mean / len(lanes)


def driver_state(
    waiting: Waiting, queue: AreaQueue, board: Board, gate: Gate, *, now: datetime
) -> dict[str, Any]:
    """The page's data for one truck (JSON types only); its times are the gate's local
    HH:MM, `zone` the gate's offset (`UTC+07:00`), which the page shows with each; a
    waiting truck's also `as_of` (when the estimate was made) and `expected_at` (ISO)."""
    offset = gate.utc_offset
    call = waiting.call
    if call is None:
        position = queue.position(waiting.truck.visit_id) or 1
        headway = _headway(gate, board, waiting.truck.direction, now)
        expected = now + headway * (position - 1)
        # the estimate is made when the queue is stepped, which may be long before the page
        # is read: its time (`as_of`), and the expected call in full to the minute (ISO, the
        # gate's offset), by which the page says when it is past (a minute's change: as
        # often as `expected_call` changes, no more rewrites of the page)
        return {
            "status": "waiting",
            "position": position,
            "expected_call": local_hhmm(expected, offset),
            "expected_at": (
                expected.astimezone(timezone(offset)).replace(second=0, microsecond=0).isoformat()
            ),
            "as_of": local_hhmm(now, offset),
            "zone": zone_name(offset),
        }
    way = "yard" if call.lane_id is None else "lane"
    yard = gate.fleet.yard.name if gate.fleet is not None and gate.fleet.yard else ""
    return {
        "status": "recalled" if waiting.calls >= 2 else "called",
        "lane_id": call.lane_id,
        "carrier_slot": call.carrier_slot,
        "way": way,
        "yard": yard if way == "yard" else None,
        "gate": gate.name,
        "called_at": local_hhmm(call.called_at, offset),
        "be_there_by": local_hhmm(call.deadline, offset),
        # in full (ISO, the gate's offset): past it the page says the truck is late, with
        # no event (the recall or the lost place comes with the queue's next step)
        "deadline": call.deadline.astimezone(timezone(offset)).isoformat(),
        "zone": zone_name(offset),
    }


def booked_state(slot: tuple[datetime, datetime] | None) -> dict[str, Any]:
    """A booked truck's page: "booked", with its slot's start and end as ISO times in the
    gate's local time (`slot`, already in it: the page shows the date and the times as
    written, never in the phone's or the server's zone). Whether the gate has a waiting
    area for it is not kept: `with_area` says it from the gate file when the page is read."""
    state: dict[str, Any] = {"status": "booked"}
    if slot is not None:
        start, end = slot
        state |= {"slot_start": start.isoformat(), "slot_end": end.isoformat()}
    return state


def with_area(state: dict[str, Any], gate: Gate | None, direction: str | None) -> dict[str, Any]:
    """A booked page as shown: `"waiting_area": false` when its gate, as loaded now, has no
    waiting area for the booking's direction (the page tells the driver to drive to the gate
    for the slot and offers no check-in; until 2026-12-06 it said to drive to the waiting
    area, and its check-in was refused), left out otherwise. From the gate's current model,
    not the booking's time: a gate file given an area (or losing one) after the booking
    changes the page's words (until 2026-12-06 late the flag was saved with the booking).
    A page not "booked", or whose gate is unknown, is as stored."""
    if state.get("status") != "booked" or gate is None or direction is None:
        return state
    shown = {k: v for k, v in state.items() if k != "waiting_area"}
    if gate.waiting_area(Direction(direction)) is None:
        shown["waiting_area"] = False
    return shown


def lost_state(event: PlaceLost, utc_offset: timedelta) -> dict[str, Any]:
    """The page of a truck that lost its place: the deadline it missed (local HH:MM), which
    the page words in its language, and the policy's reason (English) for one without; a
    truck withdrawn because its booking was cancelled: the booking's "cancelled" page."""
    if event.withdrawn:
        return {"status": "cancelled"}
    state: dict[str, Any] = {"status": "lost", "reason": event.reason}
    if event.deadline is not None:
        state["missed"] = local_hhmm(event.deadline, utc_offset)
        state["zone"] = zone_name(utc_offset)
    return state


def driver_states(
    queue: AreaQueue, board: Board, gate: Gate, *, now: datetime
) -> dict[str, dict[str, Any]]:
    """Every truck in the gate's waiting areas (called or not), by visit id."""
    return {w.truck.visit_id: driver_state(w, queue, board, gate, now=now) for w in queue.waiting}


def at_gate_state(at: datetime, offset: timedelta) -> dict[str, Any]:
    """A truck that reached the gate: when (`reached_at`, ISO at the gate's offset, to the
    minute), so that the page opened again later says when it was, not that it is there
    now (until 2026-12-06 a walk-in's page said "You are at the gate" for its 30 days)."""
    local = at.astimezone(timezone(offset)).replace(second=0, microsecond=0)
    return {"status": "at_gate", "reached_at": local.isoformat(), "zone": zone_name(offset)}
