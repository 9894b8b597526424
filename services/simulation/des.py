"""A discrete-event simulation of one border day under a policy (`orchestrated` or `fifo`).

Pure Python, seeded, no clock, no I/O: a heapq of timed events. The same day, policy and
seed give the same run, event for event.

- `orchestrated`: each truck, on reaching the gate (first sighting + the gate's approach
  time), is assigned by `OrchestratedPolicy.assign` against the gate's Board; the lanes then
  serve their queues in the Board's order (priority, arrival); trucks given a carrier slot
  hand their containers over at a yard bay and leave; carriers take waiting containers on
  round trips, except while charging; lane closures (an incident, or a lane's open hours
  ending) and carrier outages re-plan the queued trucks with `OrchestratedPolicy.replan`.
- `fifo`: one queue per direction, served strictly in arrival order (`FifoPolicy`): the head
  takes the first free lane that takes it, else everyone waits. No priorities, no carriers.

Both see the same trucks with the same difficulty: a truck's service (and handover) time is
drawn lognormal (the lane's mean and sd) at the quantile the day gave the truck, whatever
lane serves it. Carrier round trips come from a seeded stream of their own.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from statistics import NormalDist
from typing import Literal

from lanes.board import Board, Queued, Truck
from lanes.model import Assignment, Direction, Gate, Lane, Outcome
from lanes.policy import FifoPolicy, OrchestratedPolicy
from lanes.policy.hours import fit_avoiding, stretch
from lanes.revise import tells
from services.simulation.day import Day, DayTruck

PolicyName = Literal["fifo", "orchestrated", "callforward"]
POLICIES: tuple[PolicyName, ...] = ("fifo", "orchestrated")
# `callforward` (issue 23, services/simulation/callforward.py): orchestrated, with trucks
# waiting in the gate's waiting areas until called; not in POLICIES (today's comparison)
ALL_POLICIES: tuple[PolicyName, ...] = (*POLICIES, "callforward")
DRAIN = timedelta(days=1)  # how long after the day the run may go on to finish its trucks
_NORMAL = NormalDist()


class _Ev(IntEnum):
    INCIDENT = 0
    HOURS = 1
    LANE_DONE = 2
    BAY_DONE = 3
    CARRIER_BACK = 4
    WAKE = 5
    ARRIVE = 6
    HOOK = 7  # arg: a callable of the time (a subclass's own events)


@dataclass(frozen=True, slots=True)
class Incident:
    """Something that happens to the gate during the day (not from its configuration)."""

    at: datetime
    kind: Literal["lane_closed", "lane_opened", "carrier_out", "carrier_back"]
    target: str  # lane id or carrier id


@dataclass(slots=True)
class TruckRecord:
    truck: Truck
    reached_gate_at: datetime
    done_at: datetime | None = None
    place: str | None = None  # lane id, or the yard id for a carrier slot
    called_at: datetime | None = None  # callforward: first called from the waiting area


@dataclass(slots=True)
class DayRun:
    """What the simulation saw: one record a truck, busy intervals, queue lengths."""

    policy: PolicyName
    gate: Gate
    day: Day
    records: dict[str, TruckRecord] = field(default_factory=dict)
    lane_busy: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    carrier_trips: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    containers_moved: int = 0
    # (time, trucks waiting) each time the count of a direction changes
    queue_changes: dict[Direction, list[tuple[datetime, int]]] = field(default_factory=dict)
    # re-plans that told a truck something new (lanes.revise.tells), as the live path
    # revises; a call-forward run also counts each re-plan of a called truck, and each truck
    # moved at the gate or waved over to a free lane
    replanned: int = 0
    refused: int = 0  # trucks refused at least once (no open lane took them), not the tries
    # callforward: (time, trucks in the waiting area) each time a direction's count changes
    area_changes: dict[Direction, list[tuple[datetime, int]]] = field(default_factory=dict)
    recalled: int = 0
    places_lost: int = 0
    lost: set[str] = field(default_factory=set)  # callforward: the visits that lost their place


def lognormal(mean: timedelta, sd: timedelta, quantile: float) -> timedelta:
    """The `quantile` of the lognormal law with this mean and standard deviation."""
    m = mean.total_seconds()
    if sd <= timedelta(0) or m <= 0:
        return mean
    sigma2 = math.log1p((sd.total_seconds() / m) ** 2)
    mu = math.log(m) - sigma2 / 2
    return timedelta(seconds=math.exp(mu + math.sqrt(sigma2) * _NORMAL.inv_cdf(quantile)))


def simulate(
    gate: Gate,
    day: Day,
    *,
    policy: PolicyName,
    incidents: tuple[Incident, ...] = (),
) -> DayRun:
    """Play the day out under `policy`; returns what happened (see `kpis.summarise`)."""
    if policy not in ALL_POLICIES:
        raise ValueError(f"policy: {policy!r} is not one of {', '.join(ALL_POLICIES)}")
    if policy == "callforward":
        from services.simulation.callforward import CallForwardEngine  # noqa: PLC0415

        return CallForwardEngine(gate, day, policy, incidents).run()
    return Engine(gate, day, policy, incidents).run()


class Engine:
    def __init__(
        self, gate: Gate, day: Day, policy: PolicyName, incidents: tuple[Incident, ...]
    ) -> None:
        self.gate, self.day, self.policy = gate, day, policy
        self.offset = gate.utc_offset
        self.lanes: dict[str, Lane] = {lane.lane_id: lane for lane in gate.lanes}
        self.board = Board.for_gate(gate)
        self.orchestrated = OrchestratedPolicy()
        self.fifo = FifoPolicy()
        self.out = DayRun(policy, gate, day)
        self.out.lane_busy = {lane_id: [] for lane_id in self.lanes}
        self.out.queue_changes = {d: [(day.start, 0)] for d in Direction}
        self.waiting = dict.fromkeys(Direction, 0)
        self.difficulty = {t.truck.visit_id: t for t in day.trucks}
        self.heap: list[tuple[datetime, int, int, object]] = []
        self.seq = 0
        self.parked: list[Truck] = []  # orchestrated: no open lane takes them now
        self.refused: set[str] = set()  # orchestrated: the visits refused at least once
        # orchestrated: what each truck was last told (lanes.revise.tells), so that a re-plan
        # is counted only when it is news, as the live path gives a revision only then
        self.told: dict[str, tuple[object, ...]] = {}
        self.queues: dict[Direction, deque[Truck]] = {d: deque() for d in Direction}  # fifo
        self.aside: dict[Direction, list[Truck]] = {d: [] for d in Direction}  # fifo
        self.carrier_rng = random.Random(f"borderflow-des:{day.seed}:carriers")
        self.wakes: set[datetime] = set()
        self.hours_replanned_at: datetime | None = None
        self.remaining = len(day.trucks)
        fleet = gate.fleet
        self.charging = {} if fleet is None else {c.carrier_id: c.charging for c in fleet.carriers}
        self.out.carrier_trips = {carrier_id: [] for carrier_id in self.charging}
        for item in day.trucks:
            self._push(item.truck.arrived_at + self._approach(item.truck), _Ev.ARRIVE, item)
        for incident in incidents:
            self._push(incident.at, _Ev.INCIDENT, incident)
        self._schedule_hours()

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> DayRun:
        horizon = self.day.end + DRAIN
        while self.heap and self.remaining:
            at, _, kind, arg = heapq.heappop(self.heap)
            if at > horizon:
                break
            if kind == _Ev.ARRIVE:
                assert isinstance(arg, DayTruck)
                self._arrive(arg.truck, at)
            elif kind == _Ev.LANE_DONE:
                assert isinstance(arg, str)
                self._lane_done(arg, at)
            elif kind == _Ev.BAY_DONE:
                assert isinstance(arg, str)
                self._bay_done(arg, at)
            elif kind == _Ev.CARRIER_BACK:
                assert isinstance(arg, str)
                self.board = self.board.carrier_arrived(arg, at)
                self._dispatch_carriers(at)
            elif kind == _Ev.WAKE:
                self.wakes.discard(at)
                self._dispatch_carriers(at)
            elif kind == _Ev.HOURS:
                assert isinstance(arg, tuple)
                self._hours(arg[0], arg[1], at)
            elif kind == _Ev.HOOK:
                assert callable(arg)
                arg(at)
            else:
                assert isinstance(arg, Incident)
                self._incident(arg, at)
        return self.out

    def _approach(self, truck: Truck) -> timedelta:
        """From first sighting to the event ARRIVE (reaching the gate, here)."""
        return self.gate.approach_time

    def _present(self, truck: Truck) -> bool:
        """The truck is at the gate (a queued truck may still be on its way: callforward)."""
        return True

    def _push(self, at: datetime, kind: _Ev, arg: object) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, self.seq, int(kind), arg))

    def _schedule_hours(self) -> None:
        end = self.day.end + DRAIN
        for lane in self.gate.lanes:
            at = self.day.start
            while at < end:
                window = stretch(lane.hours, at, self.offset)
                if window is None:
                    break
                if window[0] > self.day.start:
                    self._push(window[0], _Ev.HOURS, (lane.lane_id, True))
                self._push(window[1], _Ev.HOURS, (lane.lane_id, False))
                at = window[1]

    def _queue_changed(self, direction: Direction, delta: int, at: datetime) -> None:
        self.waiting[direction] += delta
        self.out.queue_changes[direction].append((at, self.waiting[direction]))

    # -- trucks --------------------------------------------------------------------------
    def _arrive(self, truck: Truck, at: datetime) -> None:
        self.out.records[truck.visit_id] = TruckRecord(truck, at)
        self._queue_changed(truck.direction, +1, at)
        if self.policy == "fifo":
            self.queues[truck.direction].append(truck)
            self._fifo_dispatch(truck.direction, at)
        else:
            self._assign(truck, at)

    def _assign(self, truck: Truck, at: datetime) -> bool:
        assignment, self.board = self.orchestrated.assign(truck, self.board, self.gate, now=at)
        self.told[truck.visit_id] = tells(assignment)
        if assignment.outcome is not Outcome.ASSIGNED:
            if truck.visit_id not in self.refused:  # tried again at each opening: one truck
                self.refused.add(truck.visit_id)
                self.out.refused += 1
            self.parked.append(truck)
            return False
        if assignment.lane_id is not None:
            self._start_lane(assignment.lane_id, at)
        else:
            self._start_handovers(at)
        return True

    def _start_lane(self, lane_id: str, at: datetime) -> None:
        state = self.board.lane(lane_id)
        lane = self.lanes[lane_id]
        here = next((e.truck for e in state.queue if self._present(e.truck)), None)
        if (
            state.serving is not None
            or here is None
            or not state.is_open
            or not lane.hours.contains(at, self.offset)
        ):
            return
        truck = here
        self.board = self.board.truck_entered(truck.visit_id, lane_id, at)
        self._serve(truck, lane, at)

    def _serve(self, truck: Truck, lane: Lane, at: datetime) -> None:
        quantile = self.difficulty[truck.visit_id].service_q
        took = lognormal(lane.service_time, lane.service_sd, quantile)
        self._queue_changed(truck.direction, -1, at)
        self._push(at + took, _Ev.LANE_DONE, lane.lane_id)

    def _lane_done(self, lane_id: str, at: datetime) -> None:
        serving = self.board.lane(lane_id).serving
        assert serving is not None
        truck = serving.entry.truck
        self.board = self.board.truck_left(truck.visit_id, at)
        self.out.lane_busy[lane_id].append((serving.since, at))
        self._done(truck, lane_id, at)
        if self.policy == "fifo":
            self._fifo_dispatch(truck.direction, at)
        else:
            self._start_lane(lane_id, at)
            self._rebalance(at)

    def _done(self, truck: Truck, place: str, at: datetime) -> None:
        record = self.out.records[truck.visit_id]
        record.done_at, record.place = at, place
        self.remaining -= 1

    # -- the yard and the carriers (orchestrated) -----------------------------------------
    def _start_handovers(self, at: datetime) -> None:
        fleet = self.gate.fleet
        yard = self.board.yard
        if fleet is None or fleet.yard is None or yard is None:
            return
        while len(yard.bays) < yard.bay_count:
            entry = next((e for e in yard.queue if self._present(e.truck)), None)
            if entry is None:
                return
            held = len(yard.waiting) + sum(b.entry.truck.containers for b in yard.bays)
            if held + entry.truck.containers > yard.capacity or not fleet.hours.contains(
                at, self.offset
            ):
                return
            truck = entry.truck
            self.board = self.board.truck_entered(truck.visit_id, yard.yard_id, at)
            quantile = self.difficulty[truck.visit_id].handover_q
            took = lognormal(fleet.yard.handover, fleet.yard.handover_sd, quantile)
            self._queue_changed(truck.direction, -1, at)
            self._push(at + took, _Ev.BAY_DONE, truck.visit_id)
            yard = self.board.yard
            assert yard is not None

    def _bay_done(self, visit_id: str, at: datetime) -> None:
        yard = self.board.yard
        assert yard is not None
        bay = next(b for b in yard.bays if b.entry.truck.visit_id == visit_id)
        self.board = self.board.truck_left(visit_id, at)
        self._done(bay.entry.truck, yard.yard_id, at)
        self._dispatch_carriers(at)
        self._start_handovers(at)

    def _dispatch_carriers(self, at: datetime) -> None:
        fleet = self.gate.fleet
        if fleet is None:
            return
        for carrier in self.board.carriers:
            yard = self.board.yard
            if yard is None or not yard.waiting:
                break
            if carrier.back_at is not None or carrier.out_of_service:
                continue
            charging = self.charging[carrier.carrier_id]
            go = fit_avoiding(fleet.hours, charging, at, fleet.round_trip, self.offset)
            if go is None:
                continue
            if go > at:
                if go not in self.wakes:
                    self.wakes.add(go)
                    self._push(go, _Ev.WAKE, None)
                continue
            refs = [
                c.ref
                for way in Direction
                for c in [c for c in yard.waiting if c.direction is way][
                    : fleet.containers_per_trip
                ]
            ]
            took = lognormal(fleet.round_trip, fleet.round_trip_sd, self._carrier_quantile())
            self.board = self.board.carrier_departed(
                carrier.carrier_id, at, back_at=at + fleet.round_trip, refs=refs
            )
            self.out.carrier_trips[carrier.carrier_id].append((at, at + took))
            self.out.containers_moved += len(refs)
            self._push(at + took, _Ev.CARRIER_BACK, carrier.carrier_id)
        self._start_handovers(at)

    def _carrier_quantile(self) -> float:
        return min(max(self.carrier_rng.random(), 1e-6), 1 - 1e-6)

    # -- closures, hours, incidents -------------------------------------------------------
    def _hours(self, lane_id: str, opening: bool, at: datetime) -> None:
        if self.policy == "fifo":
            self._fifo_dispatch(self.lanes[lane_id].direction, at)
        elif opening:
            self._start_lane(lane_id, at)
            self._retry_parked(at)
        elif at != self.hours_replanned_at:  # lanes closing together: one re-plan
            self.hours_replanned_at = at
            self._replan(at)

    def _incident(self, incident: Incident, at: datetime) -> None:
        kind, target = incident.kind, incident.target
        if kind == "lane_closed":
            self.board = self.board.lane_closed(target, at)
        elif kind == "lane_opened":
            self.board = self.board.lane_opened(target, at)
        elif kind == "carrier_out":
            self.board = self.board.carrier_out(target, at)
        else:
            self.board = self.board.carrier_back(target, at)
        if self.policy == "fifo":
            for direction in Direction:
                self._fifo_dispatch(direction, at)
            return
        if kind in ("lane_closed", "carrier_out"):
            self._replan(at)
        else:
            if kind == "lane_opened":
                self._start_lane(target, at)
            self._dispatch_carriers(at)
            self._retry_parked(at)

    def _replan(self, at: datetime) -> None:
        changes, self.board = self.orchestrated.replan(self.board, self.gate, now=at)
        self._count_news(changes)
        for visit_id, assignment in changes:
            if assignment.outcome is not Outcome.ASSIGNED:
                self.parked.append(self.out.records[visit_id].truck)
            elif assignment.lane_id is not None:
                self._start_lane(assignment.lane_id, at)
        self._start_handovers(at)

    def _count_news(self, changes: list[tuple[str, Assignment]]) -> None:
        for visit_id, assignment in changes:
            now_told = tells(assignment)
            if self.told.get(visit_id) != now_told:
                self.told[visit_id] = now_told
                self.out.replanned += 1

    def _rebalance(self, at: datetime) -> None:
        changes, self.board = self.orchestrated.rebalance(self.board, self.gate, now=at)
        self._count_news(changes)
        for _, assignment in changes:
            if assignment.lane_id is not None:
                self._start_lane(assignment.lane_id, at)

    def _retry_parked(self, at: datetime) -> None:
        parked, self.parked = sorted(self.parked, key=lambda t: t.key), []
        for truck in parked:
            self._assign(truck, at)

    # -- first come, first served ---------------------------------------------------------
    def _fifo_dispatch(self, direction: Direction, at: datetime) -> None:
        aside = self.aside[direction]
        for truck in list(aside):
            lane = self.fifo.lane_for_head(truck, self.board, self.gate, now=at)
            if lane is not None:
                aside.remove(truck)
                self._fifo_start(truck, lane, at)
        queue = self.queues[direction]
        while queue:
            head = queue[0]
            lane = self.fifo.lane_for_head(head, self.board, self.gate, now=at)
            if lane is not None:
                queue.popleft()
                self._fifo_start(head, lane, at)
            elif self.fifo.must_wait_aside(head, self.board, self.gate, now=at):
                aside.append(queue.popleft())
            else:
                break

    def _fifo_start(self, truck: Truck, lane: Lane, at: datetime) -> None:
        entry = Queued(truck, lane.service_time, at, at + lane.service_time)
        self.board = self.board.assigned(entry, place=lane.lane_id)
        self.board = self.board.truck_entered(truck.visit_id, lane.lane_id, at)
        self._serve(truck, lane, at)
