"""The simulated day books trucks on the gate file's slots and judges them with its grace, as
the live decider does (`lanes.bookings.arrival_status`): every gate's day had 1-hour slots
and a 60-minute grace until 2026-12-06, whatever its `[booking]` said (Youyiguan's 30-minute
slots and 30-minute grace among them)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from importlib import resources

from lanes.bookings import SlotCapacity, capacity, is_bookable_hour
from lanes.model import BookingStatus
from services.gates.loader import parse_gate
from services.simulation.day import default_day

PACKAGED = resources.files("services.gates").joinpath("huu-nghi.toml").read_text("utf-8")


def _gate(slot_min: int, grace_min: int) -> str:
    text = PACKAGED.replace("slot_min = 60", f"slot_min = {slot_min}", 1)
    return text.replace("grace_min = 60", f"grace_min = {grace_min}", 1)


def test_no_grace_makes_every_late_truck_a_walk_in() -> None:
    gate = parse_gate(_gate(60, 0), source="g.toml")
    day = default_day(gate, trucks=600, seed=2)
    booked = [t for t in day.trucks if t.slot_start is not None]
    assert booked
    assert not [t for t in booked if t.truck.booking is BookingStatus.LATE]
    after_end = [t for t in booked if t.truck.arrived_at >= t.slot_start + timedelta(hours=1)]
    assert after_end  # late arrivals there are, and each one walks in
    assert {t.truck.booking for t in after_end} == {BookingStatus.WALK_IN}


def test_half_hour_slots_hold_the_trucks_on_time() -> None:
    gate = parse_gate(_gate(30, 30), source="g.toml")
    day = default_day(gate, trucks=600, seed=2)
    half = timedelta(minutes=30)
    booked = [t for t in day.trucks if t.slot_start is not None]
    for t in booked:
        assert t.slot_start is not None
        local = t.slot_start - day.start
        assert local % half == timedelta(0)  # on the file's slot grid
        slot_end = t.slot_start + half
        if t.truck.booking is BookingStatus.ON_TIME:
            assert t.slot_start <= t.truck.arrived_at < slot_end
        if t.truck.booking is BookingStatus.LATE:
            assert slot_end <= t.truck.arrived_at < slot_end + half
    statuses = {t.truck.booking for t in booked}
    assert {BookingStatus.ON_TIME, BookingStatus.LATE, BookingStatus.EARLY} <= statuses
    # on-time arrivals spread over the whole slot, not only its first quarter-hour
    on_time = [t for t in booked if t.truck.booking is BookingStatus.ON_TIME]
    assert any(t.truck.arrived_at - t.slot_start >= timedelta(minutes=15) for t in on_time)


# --- booking hours and capacity (2026-12-06) ---------------------------------------------------
# Until then the day's slots were drawn at any hour of its profile, however many a slot held:
# an analyst who halved the file's capacity saw the same day. Now each booking is taken as the
# API takes it (lanes.booking.Booking.new, SlotCapacity.has_room); a refused one walks in.


def _tiny() -> str:
    """Huu Nghi with 2 export and 1 import places a slot (no override) and 06:00-10:00."""
    text = PACKAGED.replace(
        "capacity = { export = 60, import = 40 }", "capacity = { export = 2, import = 1 }"
    )
    text = text.replace(
        '[[booking.overrides]]\nhours = ["06:00-07:00"]\ncapacity = { export = 40, import = 30 }',
        "",
    )
    return text.replace(
        'hours = ["06:00-22:00"]\n\n# ASSUMPTION', 'hours = ["06:00-10:00"]\n\n# ASSUMPTION', 1
    )


def test_a_tiny_capacity_books_fewer_trucks_none_over_capacity() -> None:
    packaged = default_day(parse_gate(PACKAGED, source="huu-nghi.toml"), trucks=600, seed=2)
    gate = parse_gate(_tiny(), source="tiny.toml")
    assert gate.booking is not None
    day = default_day(gate, trucks=600, seed=2)
    booked = [t for t in day.trucks if t.slot_start is not None]
    assert 0 < len(booked) < sum(t.slot_start is not None for t in packaged.trucks) / 4
    assert day.bookings < packaged.bookings / 4
    assert day.bookings_refused["slot_full"] > 0 and day.bookings_refused["window"] > 0
    per_slot = Counter((t.truck.direction, t.slot_start) for t in booked)
    general = Counter((t.truck.direction, t.slot_start) for t in booked if not t.truck.perishable)
    for (direction, slot), n in per_slot.items():
        assert slot is not None
        cap = capacity(slot, direction, gate.booking, gate.utc_offset)
        assert n <= cap.total
        assert general[(direction, slot)] <= cap.general
        local = slot - day.start
        assert timedelta(hours=6) <= local < timedelta(hours=10)  # the booking hours
    # the refused walk in when they were coming: the same arrivals, fewer on booked slots
    assert [t.truck.arrived_at for t in day.trucks] == [t.truck.arrived_at for t in packaged.trucks]
    refused = [
        t
        for t, p in zip(day.trucks, packaged.trucks, strict=True)
        if p.slot_start and not t.slot_start
    ]
    assert {t.truck.booking for t in refused} == {BookingStatus.WALK_IN}


def test_halving_the_capacity_books_fewer_trucks() -> None:
    half = PACKAGED.replace(
        "capacity = { export = 60, import = 40 }", "capacity = { export = 30, import = 20 }"
    )
    full = default_day(parse_gate(PACKAGED, source="huu-nghi.toml"), trucks=3000, seed=1)
    halved = default_day(parse_gate(half, source="half.toml"), trucks=3000, seed=1)
    assert halved.bookings < full.bookings
    assert halved.bookings_refused["slot_full"] > full.bookings_refused["slot_full"]


def test_the_packaged_day_books_only_its_booking_hours_within_capacity() -> None:
    gate = parse_gate(PACKAGED, source="huu-nghi.toml")
    assert gate.booking is not None
    day = default_day(gate, trucks=3000, seed=1)
    per_slot = Counter((t.truck.direction, t.slot_start) for t in day.trucks if t.slot_start)
    for (direction, slot), n in per_slot.items():
        assert slot is not None
        assert is_bookable_hour(slot, gate.booking, gate.utc_offset)
        assert n <= capacity(slot, direction, gate.booking, gate.utc_offset).total
    # figures of 2026-12-06 (seed 1, 3,000 trucks): 1,562 bookings before, any hour, any number
    assert (day.bookings, day.no_shows) == (1101, 70)
    assert day.bookings_refused == {"slot_full": 299, "window": 162}


def test_a_slot_has_room_by_its_total_and_its_general_share() -> None:
    cap = SlotCapacity(total=3, reserved=1)  # 2 general places
    assert cap.has_room(1, 0, perishable=False)
    assert not cap.has_room(2, 0, perishable=False)  # the third place is kept for perishables
    assert cap.has_room(2, 0, perishable=True)
    assert cap.has_room(2, 1, perishable=False)  # one of the two is perishable: 1 general left
    assert not cap.has_room(3, 1, perishable=True)
