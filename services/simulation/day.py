"""The trucks of one simulated border day, for the discrete-event simulation (`des.py`).

Pure and seeded: the same (gate, trucks, seed, day) gives the same trucks, field for field.
Each truck also carries its own "difficulty": the quantiles at which its service time and
its handover time are drawn, from a stream of their own, so that two policies replaying the
day see the same trucks taking the same share of any lane's time distribution.

Assumptions (sources in ../shared/DOMAIN.md; where none is given, the figure is an
assumption chosen to give the day the shape the issue asks for):
- Volume: `trucks` is the number of trucks that ARRIVE in the day (default 3,000: the
  2,500-3,000 trucks/day the Huu Nghi smart gate is reported to aim at, Border Guard
  newspaper 2025). No-shows come on top: bookings that never arrive.
- Two daily peaks, 07:00-11:00 and 13:00-17:00 local, carry 70% of arrivals (PEAK_SHARE);
  the rest is spread over the shoulders (05-07, 11-13, 17-22: twice the night rate) and the
  night (22-05). Assumption: the issue asks for two peaks carrying most arrivals.
- Direction: 60% export (Vietnam -> China), as the traffic simulator (services/simulation).
- Bookings: about half the trucks hold a slot at a gate that takes bookings (its gate
  file's [booking]; without one, every truck walks in): a slot of the file's `slot_min`
  (Huu Nghi: 1 hour, Hamburg's slot length), the one holding an hour drawn from the same
  daily profile. Of the booked trucks 75% arrive within the slot, 10% up to an hour early,
  15% late by up to 90 minutes after its end; a truck later than the file's `grace_min`
  (Huu Nghi: 60 minutes; GoSwift: more than 1 h late loses the reservation) loses the slot
  and is a walk-in, as the live decider judges it (`lanes.bookings.arrival_status`). Until
  2026-12-06 every gate's day had 1-hour slots and a 60-minute grace, whatever its file
  said (Youyiguan's 30-minute slots and grace among them).
  8% of bookings are no-shows (US terminals report 30-41% of slots unused; Hamburg's quotas
  came from no-shows: 8% assumes fees or quotas in force); a no-show holds its place. The
  rest are walk-ins (GoSwift's "living queue").
- Each booking, no-shows' too, is taken as the API takes it (`services/simulation/slots.py`:
  the file's booking hours and each slot's capacity, perishable share and overrides), in the
  order drawn, the day before its slot; a truck whose slot is outside the booking hours or
  full walks in at the time it was coming. Until 2026-12-06 slots were drawn at any hour,
  however many a slot held: Huu Nghi's default day (3,000 trucks, seed 1) booked 1,562
  slots, 149 arriving trucks' outside its 06:00-22:00 booking hours and peak slots up to
  84 export trucks where 60 fit.
- Cargo: ~30% perishable (fresh fruit: durian, dragon fruit, jackfruit in reefers), ~2%
  hazmat (never perishable), ~70% containerised (1 container, 10% of those 2).
- Customs channels: ~80% green, ~15% yellow, ~5% red (the issue's figures).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone

from lanes.board import Truck
from lanes.bookings import BookingRules, arrival_status, slot_of
from lanes.model import BookingStatus, CargoClass, CustomsChannel, Direction, Gate
from services.simulation.slots import SlotBook

DEFAULT_TRUCKS = 3000
DEFAULT_DAY = date(2025, 6, 2)
PEAKS = ((7, 11), (13, 17))  # local hours [start, end)
PEAK_SHARE = 0.70
SHOULDERS = ((5, 7), (11, 13), (17, 22))
SHOULDER_WEIGHT = 2.0  # relative to a night hour
EXPORT_SHARE = 0.60
BOOKED_SHARE = 0.50  # of the trucks planned (arrivals + no-shows): about half arrive booked
NO_SHOW_SHARE = 0.08  # of bookings
EARLY_SHARE = 0.10  # of booked arrivals
LATE_SHARE = 0.15  # of booked arrivals
EARLY_MAX = timedelta(minutes=60)
LATE_MAX = timedelta(minutes=90)  # after the slot's end; beyond 60 it is a walk-in
PERISHABLE_SHARE = 0.30
HAZMAT_SHARE = 0.02
CONTAINER_SHARE = 0.70
TWO_CONTAINERS_SHARE = 0.10  # of the containerised trucks
CHANNELS = ((CustomsChannel.GREEN, 0.80), (CustomsChannel.YELLOW, 0.15), (CustomsChannel.RED, 0.05))


@dataclass(frozen=True, slots=True)
class DayTruck:
    truck: Truck
    service_q: float  # quantile of its service time at whatever lane serves it, in (0, 1)
    handover_q: float  # quantile of its handover time at the yard
    slot_start: datetime | None = None  # its booked slot, if any


@dataclass(frozen=True, slots=True)
class Day:
    start: datetime  # 00:00 local
    seed: int
    trucks: tuple[DayTruck, ...]  # by arrival (first sighting)
    bookings: int  # taken: arrivals' and no-shows'
    no_shows: int  # of `bookings`
    # bookings refused, by `lanes.booking.BookingRefused.kind` (window, slot_full): their
    # trucks walk in
    bookings_refused: dict[str, int] = field(default_factory=dict)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=1)


def hour_weights() -> tuple[float, ...]:
    """Relative arrival rate of each local hour 0-23 (sums to 1)."""
    peak = {h for a, b in PEAKS for h in range(a, b)}
    shoulder = {h for a, b in SHOULDERS for h in range(a, b)}
    off = [SHOULDER_WEIGHT if h in shoulder else 1.0 for h in range(24) if h not in peak]
    unit = (1 - PEAK_SHARE) / sum(off)
    per_peak = PEAK_SHARE / len(peak)
    return tuple(
        per_peak if h in peak else unit * (SHOULDER_WEIGHT if h in shoulder else 1.0)
        for h in range(24)
    )


def default_day(
    gate: Gate, *, trucks: int = DEFAULT_TRUCKS, seed: int = 1, day: date = DEFAULT_DAY
) -> Day:
    """`trucks` trucks arriving at `gate` on `day` (local time), seeded."""
    if trucks < 0:
        raise ValueError(f"trucks: must be >= 0, got {trucks}")
    start = datetime.combine(day, time(0), tzinfo=timezone(gate.utc_offset))
    rng = random.Random(f"borderflow-day:{seed}")
    weights = hour_weights()
    hours = range(24)
    drafts: list[tuple[datetime, Direction, BookingStatus, datetime | None]] = []
    # in the order firms book: an arriving truck's draft (its index), or a no-show's booking
    requests: list[int | tuple[Direction, datetime, bool]] = []
    absent = random.Random(f"borderflow-day:{seed}:no-shows")  # the no-shows' slots and cargo
    while len(drafts) < trucks:
        direction = Direction.EXPORT if rng.random() < EXPORT_SHARE else Direction.IMPORT
        if gate.booking is None or rng.random() >= BOOKED_SHARE:  # no [booking]: walk-ins
            hour = rng.choices(hours, weights)[0]
            arrival = start + timedelta(hours=hour, seconds=rng.randrange(3600))
            drafts.append((arrival, direction, BookingStatus.WALK_IN, None))
            continue
        rules = gate.booking
        if rng.random() < NO_SHOW_SHARE:
            at = timedelta(hours=absent.choices(hours, weights)[0])
            perishable = absent.random() < PERISHABLE_SHARE
            requests.append((direction, _slot_holding(start, at, rules), perishable))
            continue
        while True:
            slot = _slot_holding(start, timedelta(hours=rng.choices(hours, weights)[0]), rules)
            arrival = _booked_arrival(rng, slot, rules.slot_length)
            if start <= arrival < start + timedelta(days=1):
                break
        status = arrival_status(slot, slot + rules.slot_length, arrival, rules=rules)
        requests.append(len(drafts))
        drafts.append((arrival, direction, status, slot))
    order = sorted(range(len(drafts)), key=lambda i: drafts[i][0])
    quantiles = random.Random(f"borderflow-day:{seed}:difficulty")
    out = []
    for n, i in enumerate(order, start=1):
        arrival, direction, booking, slot_start = drafts[i]
        out.append(
            DayTruck(
                truck=_truck(rng, f"sim-{seed}-{n:05d}", direction, arrival, booking),
                service_q=_quantile(quantiles),
                handover_q=_quantile(quantiles),
                slot_start=slot_start,
            )
        )
    position = {i: n for n, i in enumerate(order)}
    book = SlotBook(gate)
    placed = [r if isinstance(r, tuple) else position[r] for r in requests]
    bookings, no_shows = _book(book, out, placed, seed=seed)
    return Day(
        start=start,
        seed=seed,
        trucks=tuple(out),
        bookings=bookings,
        no_shows=no_shows,
        bookings_refused=dict(sorted(book.refused.items())),
    )


def _book(
    book: SlotBook,
    out: list[DayTruck],
    requests: list[int | tuple[Direction, datetime, bool]],
    *,
    seed: int,
) -> tuple[int, int]:
    """Take each booking of `requests` (an arriving truck's place in `out`, or a no-show's
    direction, slot and cargo) in order through `book`; a truck refused a slot walks in,
    in `out`. The bookings taken, and of them the no-shows'."""
    bookings = no_shows = 0
    for k, request in enumerate(requests):
        if isinstance(request, tuple):  # a no-show: its booking holds a place, if it gets one
            direction, slot, perishable = request
            key = f"sim-{seed}-absent-{k:05d}"
            taken = book.take(key=key, direction=direction, perishable=perishable, slot=slot)
            bookings += taken
            no_shows += taken
            continue
        t = out[request]
        assert t.slot_start is not None
        truck = t.truck
        slot = t.slot_start
        if book.take(
            key=truck.visit_id, direction=truck.direction, perishable=truck.perishable, slot=slot
        ):
            bookings += 1
        else:  # refused: it comes when it was coming, without a booking
            walk_in = replace(truck, booking=BookingStatus.WALK_IN)
            out[request] = replace(t, truck=walk_in, slot_start=None)
    return bookings, no_shows


def _slot_holding(start: datetime, at: timedelta, rules: BookingRules) -> datetime:
    """The start of the gate's slot (`lanes.bookings.slot_of`) holding `at` after local
    midnight `start`, on `start`'s clock."""
    offset = start.utcoffset()
    assert offset is not None
    return slot_of(start + at, rules, offset)[0].astimezone(start.tzinfo)


def _booked_arrival(rng: random.Random, slot: datetime, length: timedelta) -> datetime:
    draw = rng.random()
    if draw < EARLY_SHARE:
        return slot - timedelta(seconds=rng.randrange(1, int(EARLY_MAX.total_seconds())))
    if draw < EARLY_SHARE + LATE_SHARE:
        return slot + length + timedelta(seconds=rng.randrange(int(LATE_MAX.total_seconds())))
    return slot + timedelta(seconds=rng.randrange(int(length.total_seconds())))


def _truck(
    rng: random.Random,
    visit_id: str,
    direction: Direction,
    arrival: datetime,
    booking: BookingStatus,
) -> Truck:
    cargo: set[CargoClass] = set()
    if rng.random() < HAZMAT_SHARE:
        cargo.add(CargoClass.HAZMAT)
    elif rng.random() < PERISHABLE_SHARE / (1 - HAZMAT_SHARE):
        cargo.add(CargoClass.PERISHABLE)
    containers = 0
    if rng.random() < CONTAINER_SHARE:
        containers = 2 if rng.random() < TWO_CONTAINERS_SHARE else 1
        cargo.add(CargoClass.CONTAINER)
    draw = rng.random()
    channel = CHANNELS[-1][0]
    for candidate, share in CHANNELS:
        if draw < share:
            channel = candidate
            break
        draw -= share
    return Truck(
        visit_id=visit_id,
        direction=direction,
        arrived_at=arrival,
        channel=channel,
        cargo=frozenset(cargo or {CargoClass.GENERAL}),
        containers=containers,
        booking=booking,
        manifest_id=f"M-{visit_id}",
    )


def _quantile(rng: random.Random) -> float:
    return min(max(rng.random(), 1e-6), 1 - 1e-6)
