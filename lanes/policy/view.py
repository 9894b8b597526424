"""What the incremental policy keeps between decisions: per gate, the lanes each kind of truck
may take and a Band per set of open hours; per lane state, its queue's expected completions.

The Board is copy-on-write, so a LaneBoard that did not change is the same object from one
decision to the next: a lane's projection (the cursor after each queued truck, in service
order) is kept with it and recomputed only when the lane changed or its starting point moved
(the truck in service, or `now` while the lane is idle). A truck's slot is then a bisection
of the queue's keys and one lookup, where `plan.lane_slot` walked the queue through the open
hours for every candidate lane on every call. The answers are `lane_slot`'s, exactly.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from itertools import pairwise

from lanes.board import Board, LaneBoard, Queued, Truck
from lanes.model import (
    ALWAYS,
    CargoClass,
    CustomsChannel,
    DailyHours,
    Direction,
    Gate,
    Lane,
    LaneKind,
)
from lanes.policy import hours as reference
from lanes.policy.bands import Band, fit_avoiding

SCARCITY = {LaneKind.STANDARD: 0, LaneKind.SCANNER: 1, LaneKind.HAZMAT: 2, LaneKind.INSPECTION: 3}
_MAX_CACHED = 4096  # lane projections kept; beyond, the cache starts again (a bound, not a tuning)


@dataclass(frozen=True, slots=True)
class LaneInfo:
    """A lane of the gate with what the policy needs of it, worked out once."""

    n: int  # position in the gate's configuration
    lane: Lane
    band: Band
    scarcity: int
    what: str  # "standard lane HN-E1"
    inspection: bool
    twins: tuple[int, timedelta]  # (its band, its service time): idle twins give one slot


_Key = tuple[int, datetime, str]
_Keys = list[_Key] | None
# (start, done, ahead, deferred, overruns, done as a POSIX timestamp)
LaneSlot = tuple[datetime, datetime, int, bool, bool, float]
# the LaneBoard, its queue's keys (None: not in service order), the start cursor, the cursor
# after each prefix of the queue, whether the lane's hours held up that prefix, the slot
# after that prefix (once asked)
_Projection = tuple[LaneBoard, _Keys, datetime, list[datetime], list[bool], list[LaneSlot | None]]


class GateView:
    """One gate's lanes and open hours, and the cached projection of each lane state."""

    __slots__ = (
        "_candidates",
        "_projections",
        "bands",
        "charging",
        "departures",
        "fleet_hours",
        "gate",
        "lanes",
    )

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        bands: dict[int, Band] = {}
        self.bands = bands  # by id() of a DailyHours of the gate (the gate keeps them alive)
        shared: dict[DailyHours, Band] = {}  # equal hours share a band (and its answers)

        def band(hours: DailyHours) -> Band:
            if id(hours) not in bands:
                if hours not in shared:
                    shared[hours] = Band(hours, gate.utc_offset)
                bands[id(hours)] = shared[hours]
            return bands[id(hours)]

        self.lanes = tuple(
            LaneInfo(
                n,
                lane,
                band(lane.hours),
                SCARCITY[lane.kind],
                f"{lane.kind} lane {lane.lane_id}",
                lane.kind is LaneKind.INSPECTION,
                (id(band(lane.hours)), lane.service_time),
            )
            for n, lane in enumerate(gate.lanes)
        )
        fleet = gate.fleet
        self.fleet_hours = band(ALWAYS if fleet is None else fleet.hours)
        # each carrier's charging windows, by carrier id
        self.charging = (
            {} if fleet is None else {c.carrier_id: band(c.charging) for c in fleet.carriers}
        )
        self.departures: dict[tuple[str, float, tzinfo | None], tuple[float, datetime] | None] = {}
        self._candidates: dict[
            tuple[Direction, frozenset[CargoClass], CustomsChannel], tuple[LaneInfo, ...]
        ] = {}
        # id(LaneBoard) -> its projection (the LaneBoard is kept: an id is not reused while
        # the object lives)
        self._projections: dict[int, _Projection] = {}

    def _band(self, hours: DailyHours, utc_offset: timedelta) -> Band | None:
        band = self.bands.get(id(hours))
        if band is None or band.hours is not hours or band.offset != utc_offset:
            return None
        return band

    def fit(
        self, hours: DailyHours, at: datetime, duration: timedelta, utc_offset: timedelta
    ) -> datetime | None:
        """`hours.fit`, from the band of the gate's hours (the reference for any other)."""
        band = self._band(hours, utc_offset)
        if band is None:
            return reference.fit(hours, at, duration, utc_offset)
        return band.fit(at, duration)

    def fit_avoiding(
        self,
        hours: DailyHours,
        busy: DailyHours,
        at: datetime,
        duration: timedelta,
        utc_offset: timedelta,
    ) -> datetime | None:
        """`hours.fit_avoiding`, from the bands of the gate's hours."""
        band, blocked = self._band(hours, utc_offset), self._band(busy, utc_offset)
        if band is None or blocked is None:
            return reference.fit_avoiding(hours, busy, at, duration, utc_offset)
        return fit_avoiding(band, blocked, at, duration)

    def candidates(self, truck: Truck) -> tuple[LaneInfo, ...]:
        """The gate's lanes of the truck's direction that take its cargo and channel."""
        key = (truck.direction, truck.cargo, truck.channel)
        found = self._candidates.get(key)
        if found is None:
            found = self._candidates[key] = tuple(
                info
                for info in self.lanes
                if info.lane.direction is truck.direction
                and truck.cargo <= info.lane.accepts
                and truck.channel in info.lane.channels
            )
        return found

    def state(self, board: Board, info: LaneInfo) -> LaneBoard:
        """The lane's state on the board (the board keeps the gate's lane order)."""
        lanes = board.lanes
        if info.n < len(lanes):
            state = lanes[info.n]
            if state.lane_id == info.lane.lane_id:
                return state
        return board.lane(info.lane.lane_id)

    def slot(
        self, info: LaneInfo, state: LaneBoard, key: tuple[int, datetime, str], now: datetime
    ) -> LaneSlot:
        """(start, done, ahead, deferred, overruns, done as a POSIX timestamp) of a truck of
        service order `key` on the lane: `plan.lane_slot`'s Slot, from the lane's kept
        projection (and kept with it: the same for every truck with as many ahead)."""
        serving = state.serving
        if serving is None:
            if not state.queue:  # idle: from `now`
                return _slot(info, now, 0, False)
            cursor = now
        else:
            until = serving.until
            cursor = until if until > now else now  # max(now, until)
        keys, cursors, waited, slots = self._projection(info, state, cursor)
        busy = serving is not None
        if keys is not None:
            ahead = bisect_left(keys, key)
            found = slots[ahead]
            if found is None:
                found = slots[ahead] = _slot(info, cursors[ahead], ahead + busy, waited[ahead])
            return found
        # a queue out of service order (never written so): walk it as lane_slot
        waits = False
        ahead = 0
        for entry in state.queue:
            if entry.truck.key < key:
                start, _, _, _, later = info.band.start(cursor)
                waits = waits or later
                cursor = start + entry.service
                ahead += 1
        return _slot(info, cursor, ahead + busy, waits)

    def project(self, info: LaneInfo, state: LaneBoard, now: datetime) -> LaneBoard:
        """The lane state with its queue's expected times fresh: `plan.project_lane`."""
        serving = state.serving
        if serving is None:
            cursor = now
        else:
            until = serving.until
            cursor = until if until > now else now  # max(now, until)
        band = info.band
        queue = []
        for e in state.queue:
            start = band.start(cursor)[0]
            cursor = start + e.service
            queue.append(Queued(e.truck, e.service, start, cursor, e.carrier_id, e.departs_at))
        return LaneBoard(state.lane_id, state.is_open, state.changed_at, serving, tuple(queue))

    def _projection(
        self, info: LaneInfo, state: LaneBoard, cursor: datetime
    ) -> tuple[_Keys, list[datetime], list[bool], list[LaneSlot | None]]:
        """The queue's keys; the cursor after each prefix, whether the lane's hours held
        up any truck of it, and the slot after it once asked (index k: after the first k
        trucks)."""
        kept = self._projections.get(id(state))
        if (
            kept is not None
            and kept[0] is state
            and kept[2] == cursor
            and kept[2].tzinfo is cursor.tzinfo
        ):
            return kept[1], kept[3], kept[4], kept[5]
        start_at = cursor
        found = [e.truck.key for e in state.queue]
        keys = None if any(a >= b for a, b in pairwise(found)) else found
        cursors, waited = [cursor], [False]
        band = info.band
        waits = False
        for entry in state.queue:
            start, _, _, _, later = band.start(cursor)
            waits = waits or later
            cursor = start + entry.service
            cursors.append(cursor)
            waited.append(waits)
        if len(self._projections) >= _MAX_CACHED:
            self._projections.clear()
        slots: list[LaneSlot | None] = [None] * len(cursors)
        self._projections[id(state)] = (state, keys, start_at, cursors, waited, slots)
        return keys, cursors, waited, slots


def _slot(info: LaneInfo, cursor: datetime, ahead: int, waits: bool) -> LaneSlot:
    """The slot of a truck due at `cursor` on the lane, with `ahead` before it and `waits`
    whether the lane's hours held up one of them."""
    start, _, local, end, later = info.band.start(cursor)
    service = info.lane.service_time
    done = start + service
    overruns = end is not None and local + service > end
    return start, done, ahead, waits or later, overruns, done.timestamp()
