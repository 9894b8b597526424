"""The live state of one gate as the assignment policy sees it: each lane's truck in service
and its queue, the autonomous carriers, the transfer yard. Frozen: every transition returns
a new Board (copy on write), so a decision can be computed, compared and thrown away.

Times are expectations (what the orchestrator was told: a truck entered a lane at 10:02, so
it is expected out at 10:02 plus the lane's mean service), never measurements.
Queues are kept in service order: (priority, arrival, visit_id).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from lanes.errors import DomainError
from lanes.model import BookingStatus, CargoClass, CustomsChannel, Direction, Gate

PRIORITY_FIRST = 0  # perishable cargo, or on time for a booked slot
PRIORITY_NORMAL = 1  # early, late within the grace period, walk-ins


class BoardError(DomainError):
    """A lane event that does not fit the board (a truck that is not queued there...)."""


@dataclass(frozen=True, slots=True)
class Truck:
    """A matched, customs-cleared truck as the policy sees it."""

    visit_id: str
    direction: Direction
    arrived_at: datetime  # first sighting
    channel: CustomsChannel
    cargo: frozenset[CargoClass]
    containers: int
    booking: BookingStatus
    manifest_id: str | None = None

    @property
    def perishable(self) -> bool:
        return CargoClass.PERISHABLE in self.cargo

    @property
    def priority(self) -> int:
        if self.perishable or self.booking is BookingStatus.ON_TIME:
            return PRIORITY_FIRST
        return PRIORITY_NORMAL

    @property
    def key(self) -> tuple[int, datetime, str]:
        """Service order: priority class, then arrival, then visit id."""
        return (self.priority, self.arrived_at, self.visit_id)


@dataclass(frozen=True, slots=True)
class Queued:
    """A truck waiting for a lane (or a yard bay), with the plan made for it."""

    truck: Truck
    service: timedelta  # expected time in the lane (or at the bay)
    expected_start_at: datetime
    expected_done_at: datetime
    carrier_id: str | None = None  # yard only: the carrier planned for its container
    departs_at: datetime | None = None  # yard only: that carrier's planned departure


@dataclass(frozen=True, slots=True)
class InService:
    entry: Queued
    since: datetime
    until: datetime  # expected


@dataclass(frozen=True, slots=True)
class LaneBoard:
    lane_id: str
    is_open: bool = True  # closed by an operator (open hours come from the gate)
    changed_at: datetime | None = None
    serving: InService | None = None
    queue: tuple[Queued, ...] = ()


@dataclass(frozen=True, slots=True)
class CarrierBoard:
    carrier_id: str
    back_at: datetime | None = None  # on a trip, expected back; None: at the yard
    out_of_service: bool = False
    changed_at: datetime | None = None
    load: tuple[str, ...] = ()  # refs of the containers it carries


@dataclass(frozen=True, slots=True)
class Container:
    """A container handed over at the yard, waiting for a carrier trip."""

    ref: str  # visit_id/n
    direction: Direction
    ready_at: datetime
    perishable: bool = False


@dataclass(frozen=True, slots=True)
class YardBoard:
    yard_id: str
    bay_count: int
    capacity: int
    round_trip: timedelta = timedelta(0)  # a carrier's mean round trip (for back_at)
    per_trip: int = 1  # containers a carrier takes each way
    bays: tuple[InService, ...] = ()  # handovers in progress
    queue: tuple[Queued, ...] = ()  # trucks given a carrier slot, not yet at a bay
    waiting: tuple[Container, ...] = ()

    def containers_planned(self) -> int:
        """Containers waiting, being handed over, or promised a slot."""
        promised = sum(e.truck.containers for e in self.queue)
        return len(self.waiting) + sum(b.entry.truck.containers for b in self.bays) + promised


@dataclass(frozen=True, slots=True)
class Board:
    gate_id: str
    lanes: tuple[LaneBoard, ...]
    carriers: tuple[CarrierBoard, ...] = ()
    yard: YardBoard | None = None

    @classmethod
    def for_gate(cls, gate: Gate) -> Board:
        """Every lane open and idle, every carrier at the yard, the yard empty."""
        fleet = gate.fleet
        yard = None if fleet is None or fleet.yard is None else fleet.yard
        return cls(
            gate_id=gate.gate_id,
            lanes=tuple(LaneBoard(lane.lane_id) for lane in gate.lanes),
            carriers=()
            if fleet is None
            else tuple(CarrierBoard(c.carrier_id) for c in fleet.carriers),
            yard=None
            if fleet is None or yard is None
            else YardBoard(
                yard.yard_id,
                yard.bays,
                yard.capacity,
                round_trip=fleet.round_trip,
                per_trip=fleet.containers_per_trip,
            ),
        )

    # -- look-ups ------------------------------------------------------------------------
    def lane(self, lane_id: str) -> LaneBoard:
        for lane in self.lanes:
            if lane.lane_id == lane_id:
                return lane
        raise BoardError(f"no lane {lane_id!r} on the board of gate {self.gate_id!r}")

    def carrier(self, carrier_id: str) -> CarrierBoard:
        for carrier in self.carriers:
            if carrier.carrier_id == carrier_id:
                return carrier
        raise BoardError(f"no carrier {carrier_id!r} on the board of gate {self.gate_id!r}")

    def place_of(self, visit_id: str) -> str | None:
        """The lane id (or yard id) where the truck is queued or served; None if nowhere."""
        for lane in self.lanes:
            if (lane.serving and lane.serving.entry.truck.visit_id == visit_id) or any(
                e.truck.visit_id == visit_id for e in lane.queue
            ):
                return lane.lane_id
        yard = self.yard
        if yard is not None and any(
            e.truck.visit_id == visit_id for e in (*yard.queue, *(b.entry for b in yard.bays))
        ):
            return yard.yard_id
        return None

    def queued_entry(self, visit_id: str) -> tuple[str, Queued] | None:
        """Where the truck waits (not yet in service) and its plan."""
        places = [(lane.lane_id, lane.queue) for lane in self.lanes]
        if self.yard is not None:
            places.append((self.yard.yard_id, self.yard.queue))
        for place, queue in places:
            for entry in queue:
                if entry.truck.visit_id == visit_id:
                    return place, entry
        return None

    # -- transitions ---------------------------------------------------------------------
    def assigned(self, entry: Queued, *, place: str) -> Board:
        """The truck queued at `place` (a lane id or the yard id), in service order; a truck
        already queued elsewhere is moved."""
        board = self.without(entry.truck.visit_id)
        if board.yard is not None and place == board.yard.yard_id:
            return replace(board, yard=replace(board.yard, queue=_insert(board.yard.queue, entry)))
        lane = board.lane(place)
        return board._with_lane(replace(lane, queue=_insert(lane.queue, entry)))

    def with_queue(self, place: str, queue: Sequence[Queued]) -> Board:
        """The queue of `place` replaced (re-projected plans, same trucks)."""
        if self.yard is not None and place == self.yard.yard_id:
            return replace(self, yard=replace(self.yard, queue=tuple(queue)))
        return self._with_lane(replace(self.lane(place), queue=tuple(queue)))

    def without(self, visit_id: str) -> Board:
        """The truck taken out of any queue (not out of service)."""
        found = self.queued_entry(visit_id)
        if found is None:
            return self
        place, _ = found
        queue = self._queue_of(place)
        return self.with_queue(place, [e for e in queue if e.truck.visit_id != visit_id])

    def truck_entered(self, visit_id: str, place: str, at: datetime) -> Board:
        """The truck entered the lane (or a yard bay) at `at`: it leaves whichever queue it
        was in (a truck may take another lane than planned). A lane holds one truck: one still
        there is taken to have left unseen."""
        found = self.queued_entry(visit_id)
        if found is None:
            raise BoardError(f"truck {visit_id!r} entered {place!r} but is queued nowhere")
        entry = found[1]
        board = self.without(visit_id)
        started = InService(entry, since=at, until=at + entry.service)
        if board.yard is not None and place == board.yard.yard_id:
            if len(board.yard.bays) >= board.yard.bay_count:
                raise BoardError(f"truck {visit_id!r} entered yard {place!r}: every bay is busy")
            return replace(board, yard=replace(board.yard, bays=(*board.yard.bays, started)))
        return board._with_lane(replace(board.lane(place), serving=started))

    def truck_left(self, visit_id: str, at: datetime) -> Board:
        """The truck left its lane (or finished its handover: its containers now wait); a
        truck still queued (it was not seen entering) just leaves its queue."""
        for lane in self.lanes:
            if lane.serving is not None and lane.serving.entry.truck.visit_id == visit_id:
                return self._with_lane(replace(lane, serving=None))
        yard = self.yard
        if yard is not None:
            for bay in yard.bays:
                truck = bay.entry.truck
                if truck.visit_id == visit_id:
                    handed = tuple(
                        Container(f"{visit_id}/{n + 1}", truck.direction, at, truck.perishable)
                        for n in range(truck.containers)
                    )
                    bays = tuple(b for b in yard.bays if b is not bay)
                    return replace(
                        self, yard=replace(yard, bays=bays, waiting=yard.waiting + handed)
                    )
        if self.queued_entry(visit_id) is not None:
            return self.without(visit_id)
        raise BoardError(f"truck {visit_id!r} left, but it is in no lane, bay or queue")

    def lane_closed(self, lane_id: str, at: datetime) -> Board:
        return self._with_lane(replace(self.lane(lane_id), is_open=False, changed_at=at))

    def lane_opened(self, lane_id: str, at: datetime) -> Board:
        return self._with_lane(replace(self.lane(lane_id), is_open=True, changed_at=at))

    def carrier_out(self, carrier_id: str, at: datetime) -> Board:
        return self._with_carrier(
            replace(self.carrier(carrier_id), out_of_service=True, changed_at=at)
        )

    def carrier_back(self, carrier_id: str, at: datetime) -> Board:
        return self._with_carrier(
            replace(self.carrier(carrier_id), out_of_service=False, changed_at=at)
        )

    def carrier_departed(
        self,
        carrier_id: str,
        at: datetime,
        *,
        back_at: datetime | None = None,
        refs: Iterable[str] | None = None,
    ) -> Board:
        """The carrier left the yard at `at` with the containers `refs` (by default the ones
        waiting longest, `per_trip` of each direction), expected back at `back_at` (by
        default after the fleet's mean round trip)."""
        carrier = self.carrier(carrier_id)
        yard = self.yard
        if yard is None:
            raise BoardError(f"carrier {carrier_id!r} departed, but gate has no yard")
        if refs is None:
            load = tuple(
                c.ref
                for way in Direction
                for c in sorted(
                    (c for c in yard.waiting if c.direction is way), key=lambda c: c.ready_at
                )[: yard.per_trip]
            )
        else:
            load = tuple(refs)
        missing = set(load) - {c.ref for c in yard.waiting}
        if missing:
            raise BoardError(f"carrier {carrier_id!r} took {sorted(missing)}: not in the yard")
        waiting = tuple(c for c in yard.waiting if c.ref not in set(load))
        board = replace(self, yard=replace(yard, waiting=waiting))
        back = at + yard.round_trip if back_at is None else back_at
        return board._with_carrier(replace(carrier, back_at=back, load=load, changed_at=at))

    def carrier_arrived(self, carrier_id: str, at: datetime) -> Board:
        carrier = self.carrier(carrier_id)
        return self._with_carrier(replace(carrier, back_at=None, load=(), changed_at=at))

    # -- helpers -------------------------------------------------------------------------
    def _queue_of(self, place: str) -> tuple[Queued, ...]:
        if self.yard is not None and place == self.yard.yard_id:
            return self.yard.queue
        return self.lane(place).queue

    def _with_lane(self, lane: LaneBoard) -> Board:
        lanes = tuple(lane if old.lane_id == lane.lane_id else old for old in self.lanes)
        return replace(self, lanes=lanes)

    def _with_carrier(self, carrier: CarrierBoard) -> Board:
        carriers = tuple(
            carrier if old.carrier_id == carrier.carrier_id else old for old in self.carriers
        )
        return replace(self, carriers=carriers)


def _insert(queue: tuple[Queued, ...], entry: Queued) -> tuple[Queued, ...]:
    key = entry.truck.key
    at = next((n for n, e in enumerate(queue) if e.truck.key > key), len(queue))
    return (*queue[:at], entry, *queue[at:])
