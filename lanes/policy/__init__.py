"""Lane and autonomous-carrier assignment: the rules, behind one small port (`Policy`).

`OrchestratedPolicy` places each truck where it is expected to be done first, with priorities
and carriers; `FifoPolicy` is the first-come-first-served baseline the simulation compares it
with. Pure: the board and the time are arguments; the same inputs give the same decisions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from lanes.board import Board, Truck
from lanes.bookings import booking_status
from lanes.model import Assignment, Gate
from lanes.policy.fifo import FifoPolicy
from lanes.policy.orchestrated import OrchestratedPolicy
from lanes.policy.truck import cargo_of, customs_channel, truck_from_manifest

__all__ = [
    "FifoPolicy",
    "OrchestratedPolicy",
    "Policy",
    "booking_status",
    "cargo_of",
    "customs_channel",
    "truck_from_manifest",
]


class Policy(Protocol):
    def assign(
        self, truck: Truck, board: Board, gate: Gate, *, now: datetime
    ) -> tuple[Assignment, Board]:
        """The truck's lane (or carrier slot), with a reason, and the board with it queued."""
        ...

    def replan(
        self, board: Board, gate: Gate, *, now: datetime
    ) -> tuple[list[tuple[str, Assignment]], Board]:
        """New assignments for the trucks a closure or an outage left without a place."""
        ...
