"""The simulated day under call-forward (issue 23): the orchestrated engine, but a truck first
sighted at its direction's waiting-area camera waits there (not on the road) until
`CallForwardPolicy` calls it; it then drives the area's drive time to the gate, where its
place (lane or carrier slot) was taken for it at the call. A lane serves the first truck
queued for it that is at the gate (one called but still driving does not hold it up); a
called truck whose lane is busy when it reaches the gate takes a lane free then
(`CallForwardPolicy.at_gate`, the rule the live desk runs too).

The road queue (`DayRun.queue_changes`, as for the other policies: trucks at or on the way
into the gate's queues, not yet in service) counts the called trucks from their arrival at
the gate, and the trucks that found the waiting area full (they queue on the road until
there is room). Drivers are assumed to answer every call at once and drive the mean drive
time, unless `DriverResponse` says otherwise (`simulate_callforward`): then a share of
drivers miss their first call (recalled at its deadline), and a share of those the recall
too (their place is lost; they never finish). Trucks of a direction without a waiting area
are assigned at the gate as today.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from lanes.board import Truck
from lanes.model import Direction, Gate
from lanes.policy.callforward import AreaQueue, CallForwardPolicy, PlaceLost, TruckCalled
from lanes.policy.orchestrated import REBALANCE_GAIN
from lanes.policy.plan import project_lane
from services.simulation.day import Day
from services.simulation.des import DayRun, Engine, Incident, PolicyName, TruckRecord, _Ev

TICK = timedelta(seconds=30)  # how often waiting trucks are weighed between other events


@dataclass(frozen=True, slots=True)
class DriverResponse:
    """How drivers answer calls: `miss_first` of them do not come on the first call; of
    those, `miss_recall` do not come on the recall either. Drawn per truck, seeded."""

    miss_first: float = 0.0
    miss_recall: float = 0.0


def simulate_callforward(
    gate: Gate,
    day: Day,
    *,
    response: DriverResponse = DriverResponse(),
    incidents: tuple[Incident, ...] = (),
) -> DayRun:
    """The day under call-forward with drivers answering as `response` says."""
    return CallForwardEngine(gate, day, "callforward", incidents, response=response).run()


class CallForwardEngine(Engine):
    def __init__(
        self,
        gate: Gate,
        day: Day,
        policy: PolicyName,
        incidents: tuple[Incident, ...],
        *,
        response: DriverResponse = DriverResponse(),
    ) -> None:
        self.response = response
        self.area = AreaQueue()
        self.callforward = CallForwardPolicy(None)
        self.present: set[str] = set()
        self.road: dict[Direction, deque[Truck]] = {d: deque() for d in Direction}
        self.tick_at: datetime | None = None
        super().__init__(gate, day, policy, incidents)
        self.callforward = CallForwardPolicy(self.orchestrated)
        self.out.area_changes = {d: [(day.start, 0)] for d in Direction}

    def _approach(self, truck: Truck) -> timedelta:
        if self.gate.waiting_area(truck.direction) is None:
            return self.gate.approach_time
        return timedelta(0)  # first sighted at the area's camera

    def _present(self, truck: Truck) -> bool:
        return truck.visit_id in self.present

    # -- trucks --------------------------------------------------------------------------
    def _arrive(self, truck: Truck, at: datetime) -> None:
        area = self.gate.waiting_area(truck.direction)
        if area is None:
            self.present.add(truck.visit_id)
            super()._arrive(truck, at)
            return
        self.out.records[truck.visit_id] = TruckRecord(truck, at)
        if self.area.in_area(truck.direction) >= area.capacity:
            self.road[truck.direction].append(truck)  # the area is full: it waits on the road
            self._queue_changed(truck.direction, +1, at)
        else:
            self._enter_area(truck, at)
        self._call(at)

    def _enter_area(self, truck: Truck, at: datetime) -> None:
        area = self.gate.waiting_area(truck.direction)
        assert area is not None
        self.area = self.area.entered(truck, area, at)
        self._area_changed(truck.direction, at)

    def _area_changed(self, direction: Direction, at: datetime) -> None:
        self.out.area_changes[direction].append((at, self.area.in_area(direction)))

    def _call(self, at: datetime) -> None:
        events, self.area, self.board = self.callforward.step(
            self.area, self.board, self.gate, now=at
        )
        for event in events:
            record = self.out.records[event.visit_id]
            if isinstance(event, PlaceLost):
                self.out.places_lost += 1
                self.out.lost.add(event.visit_id)
                self.remaining -= 1  # it never finishes
                continue
            assert isinstance(event, TruckCalled)
            first = record.called_at is None
            if first:
                record.called_at = at
                self._area_changed(record.truck.direction, at)
            else:
                self.out.recalled += 1
            if not self._comes(event.visit_id, first=first):
                continue
            visit_id = event.visit_id
            self._push(event.due_at, _Ev.HOOK, lambda when, v=visit_id: self._reach(v, when))
        for direction, road in self.road.items():
            area = self.gate.waiting_area(direction)
            while road and area is not None and self.area.in_area(direction) < area.capacity:
                truck = road.popleft()
                self._queue_changed(direction, -1, at)
                self._enter_area(truck, at)
        if self.area.waiting and self.tick_at is None:
            self.tick_at = at + TICK
            self._push(self.tick_at, _Ev.HOOK, self._tick)

    def _comes(self, visit_id: str, *, first: bool) -> bool:
        """Whether the driver answers this call (the first, or the recall)."""
        r = self.response
        if r.miss_first <= 0:
            return True
        u = random.Random(f"borderflow-des:{self.day.seed}:driver:{visit_id}").random()
        return u >= (r.miss_first if first else r.miss_first * r.miss_recall)

    def _tick(self, at: datetime) -> None:
        self.tick_at = None
        self._call(at)

    def _reach(self, visit_id: str, at: datetime) -> None:
        """The called truck is at the gate: it joins its place's queue there."""
        record = self.out.records[visit_id]
        record.reached_gate_at = at
        self.area, self.board, moved = self.callforward.at_gate(
            visit_id, self.area, self.board, self.gate, now=at
        )
        if moved is not None:
            self.out.replanned += 1
        self.present.add(visit_id)
        self._queue_changed(record.truck.direction, +1, at)
        place = self.board.place_of(visit_id)
        if place is not None and place in self.lanes:
            self._start_lane(place, at)
        else:
            self._start_handovers(at)

    def _start_lane(self, lane_id: str, at: datetime) -> None:
        """As at the gate today, and a free lane whose own trucks are still on their way
        takes the first truck (service order) at the gate queued for another lane of its
        direction that it takes and that it would finish sooner (the lane controller waves
        it over)."""
        super()._start_lane(lane_id, at)
        state = self.board.lane(lane_id)
        lane = self.lanes[lane_id]
        if (
            state.serving is not None
            or not state.is_open
            or not lane.hours.contains(at, self.offset)
        ):
            return
        here = sorted(
            (
                entry.truck
                for other in self.gate.lanes_for(lane.direction)
                if other.lane_id != lane_id
                for entry in project_lane(
                    other, self.board.lane(other.lane_id), now=at, utc_offset=self.offset
                )
                if entry.truck.visit_id in self.present
                and entry.truck.cargo <= lane.accepts
                and entry.truck.channel in lane.channels
                # only when it is done sooner here (a scanner's truck is not sent to a bay)
                and at + lane.service_time + REBALANCE_GAIN <= entry.expected_done_at
            ),
            key=lambda t: t.key,
        )
        if here:
            self.board = self.board.truck_entered(here[0].visit_id, lane_id, at)
            self.out.replanned += 1
            self._serve(here[0], lane, at)

    def _rebalance(self, at: datetime) -> None:
        super()._rebalance(at)
        self._call(at)

    def _retry_parked(self, at: datetime) -> None:
        super()._retry_parked(at)
        self._call(at)
