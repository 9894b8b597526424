"""Call-forward: trucks wait in the waiting area and are called to the gate when their place
is expected free by the time they drive up (issue 23; GoSwift's "living queue").

Rules, at each step (event time `now`):
- a called truck not at the gate by its deadline (call + drive time + grace) is RECALLED
  once (a fresh call, its place kept); not there by the recall's deadline, it LOSES its
  place, with the reason;
- then, per direction with a waiting area, the trucks not yet called, in service order
  (perishable or on time first, then arrival: `Truck.key`, as today), are weighed by the
  orchestrated policy as if at the gate now; a truck whose place (lane or carrier slot) is
  expected to start within `drive_time + call_lead` is CALLED and queued there on the board
  (so the next truck sees the place taken), unless that lane is out of its hours when the
  truck would be there (it would wait at the barrier for the lane to open). While fewer
  trucks wait to be called for its kind of lane than that kind has open lanes
  (`callplaces.lane_kind`, `backlogged`), a truck is weighed on the least scarce kind of lane
  that takes it (`callplaces.own_kind`: scanners and the hazmat lane kept for the trucks that
  need them); with a backlog there, on every place, and the lead calls it early only while
  fewer than `BARRIER_BUFFER` trucks are expected at the barriers of that kind of lane when it
  arrives (`callplaces.at_barrier`: the lead is spent on the pool, not on each lane). The road then
  holds only trucks on their way, and a lane is idle at most the gap between its expected
  and its actual free time;
- a called truck that reaches the gate and finds its lane busy takes a lane free then, when
  it is done there no later (`at_gate`): the call names a place planned on mean times, and
  a truck at the barrier goes before one still driving up. The gate's decider places a
  called truck by the same rule (`assign_called`): the gate tells the driver the lane the
  call named, or the free lane `at_gate` waves it to.
Pure: the area's queue, the board and the time are arguments; the same inputs give the same
calls. Call ids are stable (`<visit>/call-<n>`): the notifier's idempotency key.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from lanes.board import Board, Queued, Truck
from lanes.model import (
    Assignment,
    BookingStatus,
    Direction,
    Gate,
    Lane,
    LaneKind,
    Outcome,
    WaitingArea,
)
from lanes.policy.callplaces import (
    BARRIER_BUFFER,
    at_barrier,
    backlogged,
    lane_kind,
    own_kind,
)
from lanes.policy.hours import local_hhmm
from lanes.policy.orchestrated import OrchestratedPolicy
from lanes.policy.plan import project_lane


class CallKind(StrEnum):
    CALL = "call"
    RECALL = "recall"


@dataclass(frozen=True, slots=True)
class TruckCalled:
    """A truck called forward from the waiting area (an event: `borderflow.calls`)."""

    call_id: str  # `<visit_id>/call-<n>`: unique, stable, the notification's idempotency key
    visit_id: str
    gate_id: str
    area_id: str
    kind: CallKind
    called_at: datetime
    due_at: datetime  # expected at the gate: call + drive time
    deadline: datetime  # not at the gate by then: recalled, or the place is lost
    lane_id: str | None
    carrier_slot: str | None
    expected_start_at: datetime | None
    reason: str
    manifest_id: str | None = None


@dataclass(frozen=True, slots=True)
class PlaceLost:
    """A called truck that did not come, recalled, that did not come again (an event)."""

    visit_id: str
    gate_id: str
    area_id: str
    at: datetime
    last_call_id: str
    reason: str
    deadline: datetime | None = None  # the recall's, missed: what the driver is told in words
    withdrawn: bool = False  # taken out of the queue (its booking cancelled), not missed
    manifest_id: str | None = None  # the truck's, as its calls name it (the firm's webhook)


CallEvent = TruckCalled | PlaceLost


@dataclass(frozen=True, slots=True)
class Waiting:
    """A truck in a waiting area: not called yet, or called (its latest call)."""

    truck: Truck
    area_id: str
    entered_at: datetime
    call: TruckCalled | None = None
    calls: int = 0
    first_called_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AreaQueue:
    """The trucks in the gate's waiting areas, in service order (`Truck.key`)."""

    waiting: tuple[Waiting, ...] = ()

    def entered(self, truck: Truck, area: WaitingArea, at: datetime) -> AreaQueue:
        """The truck waits in `area` (a truck already there keeps its place)."""
        if self.find(truck.visit_id) is not None:
            return self
        entry = Waiting(truck, area.area_id, at)
        key = truck.key
        n = next((i for i, w in enumerate(self.waiting) if w.truck.key > key), len(self.waiting))
        return AreaQueue((*self.waiting[:n], entry, *self.waiting[n:]))

    def left(self, visit_id: str) -> AreaQueue:
        """The truck is gone (reached the gate, lost its place, left)."""
        return AreaQueue(tuple(w for w in self.waiting if w.truck.visit_id != visit_id))

    def find(self, visit_id: str) -> Waiting | None:
        return next((w for w in self.waiting if w.truck.visit_id == visit_id), None)

    def position(self, visit_id: str) -> int | None:
        """1 for the next truck of its direction to be called; None once called or absent."""
        mine = self.find(visit_id)
        if mine is None or mine.call is not None:
            return None
        ahead = [
            w
            for w in self.waiting
            if w.call is None
            and w.truck.direction is mine.truck.direction
            and w.truck.key < mine.truck.key
        ]
        return len(ahead) + 1

    def uncalled(self, direction: Direction) -> list[Waiting]:
        return [w for w in self.waiting if w.call is None and w.truck.direction is direction]

    def in_area(self, direction: Direction) -> int:
        """Trucks of this direction still in the area (not called)."""
        return len(self.uncalled(direction))

    def _put(self, entry: Waiting) -> AreaQueue:
        return AreaQueue(
            tuple(entry if w.truck.visit_id == entry.truck.visit_id else w for w in self.waiting)
        )


class CallForwardPolicy:
    __slots__ = ("lanes",)

    def __init__(self, lanes: OrchestratedPolicy | None = None) -> None:
        self.lanes = lanes or OrchestratedPolicy()

    def step(
        self, queue: AreaQueue, board: Board, gate: Gate, *, now: datetime
    ) -> tuple[list[CallEvent], AreaQueue, Board]:
        """Recalls and lost places of the overdue calls, then the new calls; the area's
        queue and the board after them."""
        events: list[CallEvent] = []
        for waiting in queue.waiting:
            call = waiting.call
            if call is None or now < call.deadline:
                continue
            area = _area(gate, waiting)
            if waiting.calls >= 2:
                offset, first = gate.utc_offset, waiting.first_called_at or call.called_at
                reason = (
                    f"called at {local_hhmm(first, offset)} and recalled at "
                    f"{local_hhmm(call.called_at, offset)}, not at the gate by "
                    f"{local_hhmm(call.deadline, offset)}: place lost"
                )
                events.append(
                    PlaceLost(
                        waiting.truck.visit_id,
                        gate.gate_id,
                        area.area_id,
                        now,
                        call.call_id,
                        reason,
                        call.deadline,
                        manifest_id=waiting.truck.manifest_id,
                    )
                )
                queue = queue.left(waiting.truck.visit_id)
                board = board.without(waiting.truck.visit_id)
                continue
            recall = self._call(
                waiting, board, gate, area, now=now, kind=CallKind.RECALL, due=_due(queue)
            )
            if recall is None:  # its place is gone (closed): back in line, uncalled
                board = board.without(waiting.truck.visit_id)
                queue = queue._put(replace(waiting, call=None))
                continue
            event, board = recall
            events.append(event)
            queue = queue._put(replace(waiting, call=event, calls=waiting.calls + 1))
        for area in gate.waiting_areas:
            missed: set[tuple[object, ...]] = set()
            due = _due(queue)
            uncalled = queue.uncalled(area.direction)
            kinds = {w.truck.visit_id: lane_kind(w.truck, board, gate, now=now) for w in uncalled}
            backlog = backlogged(kinds.values(), board, gate, area.direction, now=now)
            for waiting in uncalled:
                needs = _needs(waiting.truck)
                if needs in missed:
                    continue  # the same places, no freer than for the truck before it
                lead = _lead(area, kinds[waiting.truck.visit_id], backlog)
                called = self._call(
                    waiting, board, gate, area, now=now, kind=CallKind.CALL, due=due, lead=lead
                )
                if called is None:
                    missed.add(needs)
                    continue
                event, board = called
                events.append(event)
                due[event.visit_id] = event.due_at
                queue = queue._put(
                    replace(waiting, call=event, calls=waiting.calls + 1, first_called_at=now)
                )
        return events, queue, board

    def at_gate(
        self, visit_id: str, queue: AreaQueue, board: Board, gate: Gate, *, now: datetime
    ) -> tuple[AreaQueue, Board, str | None]:
        """The called truck reached the gate: it leaves the area. When the lane it was
        called to is not free for it now (a truck in it, or one at the gate queued ahead of
        it: the truck ahead overran, or a lane waved another truck in) and another lane of its
        direction is, it goes there, as the lane controller would wave it in: a call names a
        place planned on mean service times, and a truck at a barrier goes before a truck
        still driving up. A lane is free for it when open, in its hours, idle, taking its
        cargo and channel, with nobody at the gate queued there; the orchestrated policy's
        rules choose among the free lanes (as for a truck at the gate today), and it moves
        only if it is done there no later than it would be in its own place (a green truck
        is not sent into a 12-minute inspection bay to save a minute). A called truck still
        driving to the lane it takes goes, on reaching the gate, to a lane free then (this
        rule again) or waits its turn there. Returns the queue, the board and the lane it was
        moved to (None: it keeps its place)."""
        due = _due(queue.left(visit_id))
        queue = queue.left(visit_id)
        found = board.queued_entry(visit_id)
        if found is None:
            return queue, board, None
        place, entry = found
        truck = entry.truck
        lanes = gate.lanes_for(truck.direction)
        mine = next((lane for lane in lanes if lane.lane_id == place), None)
        if mine is None or _free(board, gate, mine, truck, due, now=now, own=True):
            return queue, board, None
        weigh = replace(board, yard=None)  # a truck at a lane's barrier stays at the lanes
        free = 0
        for lane in lanes:
            if lane is not mine and _free(board, gate, lane, truck, due, now=now, own=False):
                weigh = weigh.with_queue(lane.lane_id, ())
                free += 1
            else:
                weigh = weigh.lane_closed(lane.lane_id, now)
        if not free:
            return queue, board, None
        assignment, _ = self.lanes.assign(truck, weigh, gate, now=now)
        lane_id = assignment.lane_id
        if assignment.outcome is not Outcome.ASSIGNED or lane_id is None:
            return queue, board, None
        service = next(lane.service_time for lane in lanes if lane.lane_id == lane_id)
        here = replace(
            board.lane(place),
            queue=tuple(e for e in board.lane(place).queue if e.truck.visit_id not in due),
        )
        planned = next(
            e.expected_done_at
            for e in project_lane(mine, here, now=now, utc_offset=gate.utc_offset)
            if e.truck.visit_id == visit_id
        )
        if now + service > planned:
            return queue, board, None
        moved = replace(
            entry, service=service, expected_start_at=now, expected_done_at=now + service
        )
        return queue, board.assigned(moved, place=lane_id), lane_id

    def withdraw(
        self,
        visit_id: str,
        queue: AreaQueue,
        board: Board,
        gate: Gate,
        *,
        now: datetime,
        reason: str,
    ) -> tuple[PlaceLost | None, AreaQueue, Board]:
        """The truck is no longer to be called (its booking cancelled): it leaves the area's
        queue and gives up the place it was called to, as a lost place with `reason`; None
        when it is not queued."""
        waiting = queue.find(visit_id)
        if waiting is None:
            return None, queue, board
        last = waiting.call.call_id if waiting.call is not None else f"{visit_id}/withdrawn"
        area = _area(gate, waiting)
        event = PlaceLost(
            visit_id,
            gate.gate_id,
            area.area_id,
            now,
            last,
            reason,
            withdrawn=True,
            manifest_id=waiting.truck.manifest_id,
        )
        return event, queue.left(visit_id), board.without(visit_id)

    def _call(
        self,
        waiting: Waiting,
        board: Board,
        gate: Gate,
        area: WaitingArea,
        *,
        now: datetime,
        kind: CallKind,
        due: Mapping[str, datetime],
        lead: timedelta = timedelta(0),
    ) -> tuple[TruckCalled, Board] | None:
        """The call if the truck's best place is expected free by the time it drives up
        (always for a recall: its place is kept), with the board holding it there."""
        truck = waiting.truck
        weighed = _committed_first(_as_there(board, due, now=now), truck.visit_id)
        if kind is CallKind.CALL and lead == timedelta(0):  # no backlog: its own kind of lane
            weighed = own_kind(weighed, gate, truck, now=now)
        assignment, after = self.lanes.assign(truck, weighed, gate, now=now)
        planned = assignment.expected_start_at
        found = after.queued_entry(truck.visit_id)
        if assignment.outcome is not Outcome.ASSIGNED or planned is None or found is None:
            return None
        arrive = now + area.drive_time
        lane = next((ln for ln in gate.lanes if ln.lane_id == assignment.lane_id), None)
        if kind is CallKind.CALL and planned > arrive + lead:
            return None
        if (
            kind is CallKind.CALL
            and planned > arrive
            and lane is not None
            and at_barrier(after, gate, lane, due, now=now, at=arrive, besides=truck.visit_id)
            >= BARRIER_BUFFER
        ):
            return None  # called early, it would wait at a barrier behind enough trucks
        start = max(planned, arrive)
        if (
            kind is CallKind.CALL
            and lane is not None
            and not lane.hours.contains(start, gate.utc_offset)
        ):
            return None  # the lane is out of its hours then: it would wait at the barrier
        place, entry = found
        after = board.assigned(entry, place=place)
        offset = gate.utc_offset
        place = assignment.lane_id or f"carrier slot {assignment.carrier_slot}"
        what = "recalled" if kind is CallKind.RECALL else "called"
        reason = (
            f"{what} at {local_hhmm(now, offset)}: {place} expected free at "
            f"{local_hhmm(start, offset)}, at the gate by {local_hhmm(arrive, offset)} "
            f"({area.drive_time.total_seconds() / 60:g} min drive); {assignment.reason}"
        )
        event = TruckCalled(
            call_id=f"{truck.visit_id}/call-{waiting.calls + 1}",
            visit_id=truck.visit_id,
            gate_id=gate.gate_id,
            area_id=area.area_id,
            kind=kind,
            called_at=now,
            due_at=arrive,
            deadline=arrive + area.arrival_grace,
            lane_id=assignment.lane_id,
            carrier_slot=assignment.carrier_slot,
            expected_start_at=start,
            reason=reason,
            manifest_id=truck.manifest_id,
        )
        return event, after


# How long after its deadline a call still names the truck's lane at the gate: a truck a
# little late is still the one called (call-forward recalls it, or its place is lost and the
# call is withdrawn).
CALL_HOLDS_PAST_DEADLINE = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class CalledPlace:
    """A truck's latest call, as the gate's decider is told it: the manifest's truck was
    called at `called_at` to lane `lane_id` (`call_id`), due at the gate by `deadline`."""

    manifest_id: str
    lane_id: str
    call_id: str
    called_at: datetime
    deadline: datetime

    def holds(self, at: datetime) -> bool:
        """Whether a truck of this manifest reaching the gate at `at` is the one called."""
        return self.called_at <= at <= self.deadline + CALL_HOLDS_PAST_DEADLINE


def assign_called(
    place: CalledPlace,
    truck: Truck,
    board: Board,
    gate: Gate,
    *,
    now: datetime,
    lanes: OrchestratedPolicy,
) -> tuple[Assignment, Board] | None:
    """Where the gate sends a called truck that reached it (the decider, issue 23): the lane
    the call named, queued there in service order as `lanes` (the policy) plans it, unless
    that lane is not free for it and another lane of its direction is, where `at_gate` (the
    simulation's rule) waves it. The driver's page and SMS named the lane; the gate names
    the same, or says why not. None when the call's lane no longer takes the truck (closed
    since, not of its direction, not its cargo or channel): the policy places it as any
    truck at the gate."""
    ours = gate.lanes_for(truck.direction)
    if not any(lane.lane_id == place.lane_id for lane in ours):
        return None
    weigh = replace(board, yard=None)
    for lane in ours:
        if lane.lane_id != place.lane_id:
            weigh = weigh.lane_closed(lane.lane_id, now)
    assignment, after = lanes.assign(truck, weigh, gate, now=now)
    found = after.queued_entry(truck.visit_id)
    if assignment.outcome is not Outcome.ASSIGNED or found is None:
        return None
    board = board.assigned(found[1], place=place.lane_id)
    offset = gate.utc_offset
    called = f"called at {local_hhmm(place.called_at, offset)} to {place.lane_id}"
    _, moved_board, moved = CallForwardPolicy(lanes).at_gate(
        truck.visit_id, AreaQueue(), board, gate, now=now
    )
    entry = moved_board.queued_entry(truck.visit_id) if moved is not None else None
    if moved is None or entry is None:
        return replace(assignment, reason=f"{called}: {assignment.reason}"), board
    start, done = entry[1].expected_start_at, entry[1].expected_done_at
    reason = (
        f"{called}, which is not free (a truck in it, or queued at the gate ahead); "
        f"{moved} is free: waved there, expected start {local_hhmm(start, offset)}, "
        f"done {local_hhmm(done, offset)}"
    )
    return Assignment(Outcome.ASSIGNED, moved, reason, start, done), moved_board


def with_calls(board: Board, previous: Board, queue: AreaQueue, gate: Gate) -> Board:
    """`board` (the orchestrator's newest: it knows nothing of the calls) with every called
    truck still on its way queued at the place it was called to, as on `previous` (the
    board the calls were made on), or, where `previous` no longer has it (a restart: the
    queue comes back, its board does not), at the call's lane from its expected start on
    the lane's mean service. Without this, a truck entering after a new board was taken is
    weighed as if the trucks called before it were not coming, and two are called to one
    place."""
    lanes = {lane.lane_id: lane for lane in gate.lanes}
    yard = None if board.yard is None else board.yard.yard_id
    for waiting in queue.waiting:
        call = waiting.call
        visit_id = waiting.truck.visit_id
        if call is None or board.queued_entry(visit_id) is not None:
            continue
        found = previous.queued_entry(visit_id)
        if found is not None and (found[0] in lanes or found[0] == yard):
            board = board.assigned(found[1], place=found[0])
        elif call.lane_id in lanes and call.expected_start_at is not None:
            service = lanes[call.lane_id].service_time
            start = call.expected_start_at
            entry = Queued(waiting.truck, service, start, start + service)
            board = board.assigned(entry, place=call.lane_id)
    return board


def _lead(area: WaitingArea, kind: LaneKind | None, backlog: frozenset[LaneKind]) -> timedelta:
    """The area's call lead for a truck for lanes of `kind` while that kind has a backlog (at
    least as many trucks waiting to be called for it as it has open lanes:
    `callplaces.backlogged`), else none. The lead keeps lanes busy (the next truck is at the
    barrier when the truck ahead is done early) at the cost of trucks waiting there when it
    overruns; with fewer trucks waiting for a kind of lane than it has lanes, a lane left
    idle a moment costs no throughput, and trucks are called to be at the gate when their
    place is expected free. Until 2026-12-06 the backlog was the area's trucks of every kind
    against the direction's lanes of every kind (12 at Huu Nghi), so at the start of a peak
    the standard lanes, with a backlog of green trucks already, had no lead."""
    return area.call_lead if kind is not None and kind in backlog else timedelta(0)


def _free(
    board: Board,
    gate: Gate,
    lane: Lane,
    truck: Truck,
    due: Mapping[str, datetime],
    *,
    now: datetime,
    own: bool,
) -> bool:
    """Whether `truck`, at the gate, can enter `lane` now: open, in its hours, idle, taking
    its cargo and channel, and the first truck at the gate queued there (its own lane:
    `own`), or with nobody at the gate queued there (another lane: the trucks queued there
    are called and still driving, `due`)."""
    state = board.lane(lane.lane_id)
    if not state.is_open or state.serving is not None:
        return False
    if not lane.hours.contains(now, gate.utc_offset):
        return False
    if not (truck.cargo <= lane.accepts and truck.channel in lane.channels):
        return False
    if own:
        here = next((e for e in state.queue if e.truck.visit_id not in due), None)
        return here is not None and here.truck.visit_id == truck.visit_id
    return all(e.truck.visit_id in due for e in state.queue)


def _needs(truck: Truck) -> tuple[object, ...]:
    """What decides a truck's place when weighed behind every truck already queued: its
    direction, channel, cargo and containers (not its priority or arrival). A truck that
    could not be called leaves every truck with the same needs uncalled in this step: the
    calls made after it only fill places."""
    return (truck.direction, truck.channel, truck.cargo, truck.containers)


def _area(gate: Gate, waiting: Waiting) -> WaitingArea:
    area = next((a for a in gate.waiting_areas if a.area_id == waiting.area_id), None)
    if area is None:  # the gate was reconfigured: its direction's area, if any
        area = gate.waiting_area(waiting.truck.direction)
    if area is None:
        raise ValueError(f"gate {gate.gate_id!r} has no waiting area {waiting.area_id!r}")
    return area


def _due(queue: AreaQueue) -> dict[str, datetime]:
    """When each called truck still on its way is expected at the gate."""
    return {w.truck.visit_id: w.call.due_at for w in queue.waiting if w.call is not None}


def _as_there(board: Board, due: Mapping[str, datetime], *, now: datetime) -> Board:
    """The board to weigh a call on: a called truck still on its way cannot start before it
    is at the gate, so its expected time in its place is stretched by the wait for it (the
    board alone takes every queued truck as there). Mean service times."""
    if not due:
        return board
    for lane in board.lanes:
        if any(e.truck.visit_id in due for e in lane.queue):
            free = [now if lane.serving is None else max(now, lane.serving.until)]
            board = board.with_queue(lane.lane_id, _stretched(lane.queue, free, due, now))
    yard = board.yard
    if yard is not None and any(e.truck.visit_id in due for e in yard.queue):
        free = [max(now, b.until) for b in yard.bays]
        free += [now] * (yard.bay_count - len(yard.bays))
        board = board.with_queue(yard.yard_id, _stretched(yard.queue, free, due, now))
    return board


# Weighing only: trucks already queued at a place keep their order there and come before
# the truck being weighed (see `_committed_first`).
_COMMITTED_SINCE = datetime(1970, 1, 1, tzinfo=UTC)


def _committed_first(board: Board, visit_id: str) -> Board:
    """The board to weigh a call on, with every truck already queued (at the gate, or called
    and on its way) ahead of the truck weighed, in its present order. A call is a
    commitment: the board's service order (priority, then arrival) would put a perishable
    truck still in the area ahead of a truck called before it, plan it into the place that
    truck is driving up to, and the two would meet at the barrier. Only the order of the
    weighing changes: on the board itself the truck called is queued in service order."""

    def first(queue: tuple[Queued, ...]) -> list[Queued]:
        return [
            e
            if e.truck.visit_id == visit_id
            else replace(
                e,
                truck=replace(
                    e.truck,
                    booking=BookingStatus.ON_TIME,
                    arrived_at=_COMMITTED_SINCE + timedelta(seconds=n),
                ),
            )
            for n, e in enumerate(queue)
        ]

    for lane in board.lanes:
        if lane.queue:
            board = board.with_queue(lane.lane_id, first(lane.queue))
    yard = board.yard
    if yard is not None and yard.queue:
        board = board.with_queue(yard.yard_id, first(yard.queue))
    return board


def _stretched(
    queue: tuple[Queued, ...], free: list[datetime], due: Mapping[str, datetime], now: datetime
) -> list[Queued]:
    heapq.heapify(free)
    out = []
    # in the order they will be there: the trucks at the gate, then the called ones by due
    # time (the board's order would put a perishable truck due later ahead of them)
    for entry in sorted(queue, key=lambda e: due.get(e.truck.visit_id, now)):
        at = heapq.heappop(free)
        begin = max(at, due.get(entry.truck.visit_id, at))
        out.append(replace(entry, service=begin - at + entry.service))
        heapq.heappush(free, begin + entry.service)
    return out
