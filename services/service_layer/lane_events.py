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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
# how far ahead of the gate's reads (its newest read) a lane event is applied when it comes;
# one dated further ahead (a gateway whose clock is off, a later day's events sent before an
# earlier day's reads) is held until the reads reach it (an ASSUMPTION: gates read trucks
# at least hourly while they work; at night an event more than an hour ahead of the last
# read waits for the first read within the hour before it)
LEAD = timedelta(hours=1)


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
        done = Applied()
        for gate_id in sorted({e.gate_id for e in fresh}):
            gate = self.gates[gate_id]
            mine = [e for e in fresh if e.gate_id == gate_id]
            clock = await store.gate_clock(gate_id)
            ahead = [e for e in mine if clock is not None and e.at > clock + LEAD]
            if ahead:  # applied by the decider when the reads reach them
                log.info(
                    "lane events %s at %s dated ahead of its reads (%s): held",
                    [e.event_id for e in ahead],
                    gate_id,
                    clock,
                )
                await store.hold_lane_events([e.event_id for e in ahead])
            now = [e for e in mine if e not in ahead]
            if now:
                await apply_lane_events(store, gate, now, self.policy, done)
        # a refused event is dead-lettered, not seen: its redrive (a truck's entry that came
        # before its decision, sent again once the decision is there) is applied then
        await store.forget_lane_events(
            sorted({e.event_id for e, _ in done.rejected if e.event_id not in done.took})
        )
        await store.revise_decisions(done.revised)
        return LaneEventsApplied(
            tuple(done.revised), tuple(done.rejected), done.applied, len(events) - len(fresh)
        )


@dataclass
class Applied:
    """What applying lane events to the boards did, gathered over a batch."""

    revised: list[LaneDecision] = field(default_factory=list)
    latest: dict[str, LaneDecision] = field(default_factory=dict)  # visit -> its revision
    rejected: list[tuple[LaneEvent, str]] = field(default_factory=list)
    applied: Counter[str] = field(default_factory=Counter)  # by kind
    took: set[str] = field(default_factory=set)  # the event ids applied


async def apply_lane_events(
    store: GateStore, gate: Gate, events: Sequence[LaneEvent], policy: Policy, done: Applied
) -> None:
    """Apply `events` (of `gate`, in time order) to its board, each at its time: the board
    settled to it, the event applied, the trucks a closure strands re-planned (their
    revisions in `done`, not yet stored). An event the board refuses is in `done.rejected`.
    The lane-event worker calls it for the events it takes; the decider for the held ones
    its reads reach."""
    board = await store.board(gate)
    for event in events:
        board = settle(board, gate, now=event.at)
        try:
            board, plans = _apply(board, gate, event, policy)
        except BoardError as exc:
            done.rejected.append((event, str(exc)))
            continue
        done.applied[event.kind] += 1
        done.took.add(event.event_id)
        if event.kind in {"lane_closed", "lane_opened"} and event.lane_id:
            await store.set_lane_open(event.lane_id, is_open=event.kind == "lane_opened")
        done.revised += await _revise(store, plans, event, done.latest)
    await store.save_board(gate.gate_id, board, now=events[-1].at)


async def apply_held_lane_events(
    store: GateStore, gate: Gate, until: datetime, policy: Policy
) -> list[LaneDecision]:
    """The gate's held lane events dated up to `until + LEAD` (the reads have reached them),
    applied; the revisions they make, stored. One the board refuses now is kept with the
    reason (`refuse_lane_events`) for the lane-event worker to dead-letter
    (`dead_letter_refused`), as it does one refused when it comes; until 2026-12-06 it was
    logged and forgotten."""
    rows = await store.held_lane_events(gate.gate_id, until=until + LEAD)
    if not rows:
        return []
    events = [held_event(row, n) for n, row in enumerate(rows)]
    done = Applied()
    await apply_lane_events(store, gate, events, policy, done)
    refused = {e.event_id: reason for e, reason in done.rejected if e.event_id not in done.took}
    for event_id, reason in refused.items():
        log.warning(
            "held lane event %s at %s refused by the board when its time came (to be "
            "dead-lettered): %s",
            event_id,
            gate.gate_id,
            reason,
        )
    await store.refuse_lane_events(sorted(refused.items()))
    await store.release_lane_events([e.event_id for e in events if e.event_id not in refused])
    await store.revise_decisions(done.revised)
    return done.revised


HELD_REFUSED = "held lane event refused by the board when the gate's reads reached its time"
DEAD_LETTER_BATCH = 100


async def dead_letter_refused(
    uow: GateStores, send: Callable[[Sequence[Mapping[str, Any]]], Awaitable[None]]
) -> int:
    """The held lane events the board refused, dead-lettered (`send`: each row, with its
    payload, the event as it came, and `refused`, the reason), then forgotten, so that a
    redrive of the dead letter is applied then, not taken as seen. A crash between the two
    sends them again (a dead letter twice, never none). Returns how many were sent."""
    async with uow() as store:
        rows = await store.refused_lane_events(limit=DEAD_LETTER_BATCH)
    if not rows:
        return 0
    await send(rows)
    async with uow() as store:
        await store.forget_lane_events([str(r["event_id"]) for r in rows])
    return len(rows)


def held_event(row: Mapping[str, Any], position: int) -> LaneEvent:
    payload = row["payload"]
    return LaneEvent(
        event_id=row["event_id"],
        gate_id=row["gate_id"],
        kind=row["kind"],
        at=row["at"],
        payload=payload,
        position=position,
        visit_id=payload.get("visit_id"),
        lane_id=payload.get("lane_id"),
        carrier_id=payload.get("carrier_id"),
    )


def _apply(
    board: Board, gate: Gate, event: LaneEvent, policy: Policy
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
    plans, board = policy.replan(board, gate, now=at)
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
