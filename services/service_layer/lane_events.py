"""The use case of what happens at the gate after a decision (`ApplyLaneEvents`): a truck
entering or leaving a lane, a lane opened or closed, a carrier out of service or back, is
applied to the gate's board, and a closure or an outage re-plans the trucks it strands:
each gets a revised decision (same visit, next revision) through the decision outbox.

One transaction on the gate's state (`GateStores`) per batch, under the gates' locks (the
decide-reads use case takes the same locks), so a board never sees two writers; a
redelivered event changes nothing. The lane-event consumer (services/workers/
orchestrator.py) and the replay call it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lanes.board import Board, BoardError
from lanes.decide import for_a_controller
from lanes.model import Assignment, Gate, LaneDecision
from lanes.policy import Policy
from lanes.revise import changes_anything, revised_decision
from lanes.settle import settle
from services.ports import DecisionPublisher, GateStore, GateStores

log = logging.getLogger(__name__)

WORKER = "lane-events"  # the name of its batches in the archive


@dataclass(frozen=True, slots=True)
class LaneEvent:
    """One lane event, as its consumer decoded and checked it (the gate, lane and carrier
    it names exist)."""

    event_id: str
    gate_id: str
    kind: str
    at: datetime
    payload: Mapping[str, Any]  # its wire form, as JSON values (stored with it)
    position: int  # its place in the consumer's batch
    visit_id: str | None = None
    lane_id: str | None = None
    carrier_id: str | None = None


@dataclass(frozen=True, slots=True)
class ApplyLaneEvents:
    """Apply a batch of lane events. `received_at`: the wall clock, kept with them."""

    events: tuple[LaneEvent, ...]
    received_at: datetime


@dataclass(frozen=True, slots=True)
class LaneEventsApplied:
    revised: tuple[LaneDecision, ...]
    rejected: tuple[tuple[LaneEvent, str], ...]  # events that did not fit the board, and why
    applied: Counter[str]  # by kind
    duplicates: int


class ApplyLaneEventsHandler:
    def __init__(
        self,
        *,
        uow: GateStores,
        decisions: DecisionPublisher,
        gates: Mapping[str, Gate],
        policy: Policy,
    ) -> None:
        self.uow, self.decisions = uow, decisions
        self.gates, self.policy = dict(gates), policy

    async def __call__(self, cmd: ApplyLaneEvents) -> LaneEventsApplied:
        async with self.uow() as store:
            done = await self._apply_batch(store, cmd)
        self.decisions.committed()
        await self.decisions.send(done.revised)
        return done

    async def _apply_batch(self, store: GateStore, cmd: ApplyLaneEvents) -> LaneEventsApplied:
        events = cmd.events
        await store.lock_gates({e.gate_id for e in events})
        await self.decisions.mark_sent(store)
        fresh_ids = await store.new_lane_events([_row(e, cmd.received_at) for e in events])
        fresh = sorted(
            (e for e in events if e.event_id in fresh_ids), key=lambda e: (e.at, e.event_id)
        )
        await store.record_batch(  # the replay's input boundaries (services/replay)
            WORKER,
            list(dict.fromkeys(e.event_id for e in events if e.event_id in fresh_ids)),
            [e.at for e in fresh],
        )
        revised: list[LaneDecision] = []
        latest: dict[str, LaneDecision] = {}  # visit -> its decision revised in this batch
        rejected: list[tuple[LaneEvent, str]] = []
        applied: Counter[str] = Counter()
        took: set[str] = set()  # the event ids applied (a batch may hold one twice)
        for gate_id in sorted({e.gate_id for e in fresh}):
            gate = self.gates[gate_id]
            board = await store.board(gate)
            for event in (e for e in fresh if e.gate_id == gate_id):
                board = settle(board, gate, now=event.at)
                try:
                    board, plans = self._apply(board, gate, event)
                except BoardError as exc:
                    rejected.append((event, str(exc)))
                    continue
                applied[event.kind] += 1
                took.add(event.event_id)
                if event.kind in {"lane_closed", "lane_opened"} and event.lane_id:
                    await store.set_lane_open(event.lane_id, is_open=event.kind == "lane_opened")
                revised += await _revise(store, plans, event, latest)
            await store.save_board(gate_id, board, now=fresh[-1].at)
        # a refused event is dead-lettered, not seen: its redrive (a truck's entry that came
        # before its decision, sent again once the decision is there) is applied then
        await store.forget_lane_events(
            sorted({e.event_id for e, _ in rejected if e.event_id not in took})
        )
        await store.revise_decisions(revised)
        return LaneEventsApplied(tuple(revised), tuple(rejected), applied, len(events) - len(fresh))

    def _apply(
        self, board: Board, gate: Gate, event: LaneEvent
    ) -> tuple[Board, list[tuple[str, Assignment]]]:
        at = event.at
        if event.kind == "truck_entered":
            assert event.visit_id is not None and event.lane_id is not None
            return board.truck_entered(event.visit_id, event.lane_id, at), []
        if event.kind == "truck_left":
            assert event.visit_id is not None
            return board.truck_left(event.visit_id, at), []
        if event.kind == "lane_opened":
            assert event.lane_id is not None
            return board.lane_opened(event.lane_id, at), []
        if event.kind == "carrier_back":
            assert event.carrier_id is not None
            return board.carrier_back(event.carrier_id, at), []
        if event.kind == "carrier_departed":
            assert event.carrier_id is not None
            return board.carrier_departed(event.carrier_id, at), []
        if event.kind == "carrier_arrived":
            assert event.carrier_id is not None
            return board.carrier_arrived(event.carrier_id, at), []
        if event.kind == "lane_closed":
            assert event.lane_id is not None
            board = board.lane_closed(event.lane_id, at)
        else:  # carrier_out
            assert event.carrier_id is not None
            board = board.carrier_out(event.carrier_id, at)
        plans, board = self.policy.replan(board, gate, now=at)
        return board, plans


async def _revise(
    store: GateStore,
    plans: Sequence[tuple[str, Assignment]],
    event: LaneEvent,
    latest: dict[str, LaneDecision],
) -> list[LaneDecision]:
    """The revised decisions of `plans`, each the next revision of the visit's latest
    decision: one revised earlier in the batch (`latest`, updated) or else the stored one,
    so two events of a batch that re-plan a truck give it two revisions, never one twice. A
    plan that changes nothing the truck was told is dropped."""
    if not plans:
        return []
    current = await store.decisions_for_visits([v for v, _ in plans if v not in latest])
    revised = []
    for visit_id, planned in plans:
        assignment = for_a_controller(planned)
        decision = latest.get(visit_id) or current.get(visit_id)
        if decision is None:
            log.warning("re-planned visit %s has no decision; skipped", visit_id)
            continue
        if not changes_anything(decision, assignment):
            continue
        latest[visit_id] = revision = revised_decision(decision, assignment, now=event.at)
        revised.append(revision)
    return revised


def _row(event: LaneEvent, now: datetime) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "gate_id": event.gate_id,
        "kind": event.kind,
        "at": event.at,
        "payload": event.payload,
        "received_at": now,
    }
