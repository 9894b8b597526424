"""The call-forward desk (issue 23): the live glue between the waiting areas, the pure
policy (`lanes.policy.callforward`) and the drivers' pages.

It keeps the areas' queue; it is told when a truck enters an area (a read at the area's
camera matched to its manifest, or a check-in with its booking) and when a called truck
reaches the gate; at each step (those, and a timer) it runs the policy against the board
it is handed (the orchestrator's), returns every call, recall and lost place it decided,
and gives the drivers' hub each waiting truck's page data. It publishes nothing: the use
case (services/service_layer/callforward.py) writes the calls in its batch's transaction
and they go to `borderflow.calls` once it commits (services/adapters/call_outbox.py). Event
time comes in as arguments.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from lanes.board import Board, Truck
from lanes.model import Gate
from lanes.policy.callforward import (
    AreaQueue,
    CallEvent,
    CallForwardPolicy,
    PlaceLost,
    with_calls,
)
from services.drivers.hub import DriverHub
from services.drivers.view import at_gate_state, driver_states, lost_state
from services.ports import NewCallDesk


def desk_maker(secret: bytes) -> NewCallDesk:
    """Makes each gate's desk, its pages in a hub of their own signed with `secret` (the
    call-forward use case's desks)."""

    def new_desk(gate: Gate, board: Board) -> CallForwardDesk:
        return CallForwardDesk(gate=gate, board=board, hub=DriverHub(secret))

    return new_desk


class CallForwardDesk:
    def __init__(
        self,
        *,
        gate: Gate,
        board: Board,
        hub: DriverHub | None = None,
        policy: CallForwardPolicy | None = None,
    ) -> None:
        self.gate, self.board, self.hub = gate, board, hub
        self.policy = policy or CallForwardPolicy()
        self.queue = AreaQueue()

    def use_board(self, board: Board) -> None:
        """Take the orchestrator's newest board, keeping the places of the trucks called and
        still on their way (`with_calls`)."""
        self.board = with_calls(board, self.board, self.queue, self.gate)

    async def entered(self, truck: Truck, *, at: datetime) -> list[CallEvent]:
        """The truck waits in its direction's area (none: nothing to do, it goes on)."""
        area = self.gate.waiting_area(truck.direction)
        if area is None:
            return []
        self.queue = self.queue.entered(truck, area, at)
        return await self.step(now=at)

    async def reached_gate(self, visit_id: str, *, at: datetime) -> list[CallEvent]:
        """The called truck is at the gate: it leaves the area, and takes a free lane when
        the one it was called to is not free (`CallForwardPolicy.at_gate`)."""
        self.queue, self.board, _ = self.policy.at_gate(
            visit_id, self.queue, self.board, self.gate, now=at
        )
        if self.hub is not None:
            self.hub.publish({visit_id: at_gate_state(at, self.gate.utc_offset)})
        return await self.step(now=at)

    async def unqueued(
        self, visit_id: str, *, reached: datetime, now: datetime, board: Board
    ) -> list[CallEvent]:
        """The truck queued as `visit_id` had reached the gate at `reached`, before the
        arrival that queued it (a read at the gate handled after a later area read): it
        leaves the queue and the place its call took, as if never queued, announced to
        nobody (a truck reaching the gate is not announced either); its page says it
        reached the gate then. The queue steps on, on `board` (the orchestrator's)."""
        self.queue = self.queue.left(visit_id)
        self.board = self.board.without(visit_id)
        if self.hub is not None:
            self.hub.publish({visit_id: at_gate_state(reached, self.gate.utc_offset)})
        return await self.step(now=now, board=board)

    async def withdrawn(self, visit_id: str, *, at: datetime, reason: str) -> list[CallEvent]:
        """The truck is no longer to be called (`CallForwardPolicy.withdraw`): its place is
        given up, with the reason, and the queue steps on."""
        lost, self.queue, self.board = self.policy.withdraw(
            visit_id, self.queue, self.board, self.gate, now=at, reason=reason
        )
        if lost is None:
            return await self.step(now=at)
        if self.hub is not None:
            self.hub.publish({visit_id: lost_state(lost, self.gate.utc_offset)})
        return [lost, *await self.step(now=at)]

    async def step(self, *, now: datetime, board: Board | None = None) -> list[CallEvent]:
        """Run the policy (on `board` when given: the orchestrator's newest) and refresh the
        drivers' pages; returns what it decided."""
        if board is not None:
            self.use_board(board)
        events, self.queue, self.board = self.policy.step(
            self.queue, self.board, self.gate, now=now
        )
        if self.hub is not None:
            states = driver_states(self.queue, self.board, self.gate, now=now)
            offset = self.gate.utc_offset
            states |= {
                e.visit_id: lost_state(e, offset) for e in events if isinstance(e, PlaceLost)
            }
            self.hub.publish(states)
        return events

    def page_states(self) -> dict[str, dict[str, Any]]:
        """The pages' data by visit id, as refreshed since the last `pages_written`."""
        if self.hub is None:
            return {}
        return {visit_id: json.loads(text) for visit_id, text in self.hub.states.items()}

    def pages_written(self) -> None:
        """The pages were kept: the hub forgets them (it then holds only what changes)."""
        if self.hub is not None:
            self.hub.publish({}, keep=False)
