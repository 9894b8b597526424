"""The honest baseline: first come, first served.

One queue per direction, served strictly in arrival order, as on a single approach road: the
truck at the head takes the first free lane (in the gate's configured order) that is open and
takes its cargo and channel; if none is free it waits, and everyone behind it waits too.
No priorities, no planning per lane, no autonomous carriers (none of its containers is bound
to one). A truck that no open lane takes at all (an inspection truck at night, when the bays
are shut) is waved aside to wait for its lane to open instead of blocking the road: a gate
officer would do as much.
"""

from __future__ import annotations

from datetime import datetime

from lanes.board import Board, Truck
from lanes.model import Gate, Lane


class FifoPolicy:
    __slots__ = ()

    def takes(self, lane: Lane, truck: Truck) -> bool:
        return (
            lane.direction is truck.direction
            and truck.cargo <= lane.accepts
            and truck.channel in lane.channels
        )

    def open_now(self, lane: Lane, board: Board, gate: Gate, *, now: datetime) -> bool:
        return board.lane(lane.lane_id).is_open and lane.hours.contains(now, gate.utc_offset)

    def lane_for_head(
        self, truck: Truck, board: Board, gate: Gate, *, now: datetime
    ) -> Lane | None:
        """The first free, open lane that takes the truck, in the gate's order; None: wait."""
        for lane in gate.lanes:
            if (
                self.takes(lane, truck)
                and board.lane(lane.lane_id).serving is None
                and self.open_now(lane, board, gate, now=now)
            ):
                return lane
        return None

    def must_wait_aside(self, truck: Truck, board: Board, gate: Gate, *, now: datetime) -> bool:
        """True when no open lane takes the truck at all, busy or not."""
        return not any(
            self.takes(lane, truck) and self.open_now(lane, board, gate, now=now)
            for lane in gate.lanes
        )
