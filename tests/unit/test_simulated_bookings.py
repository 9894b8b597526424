"""The simulated day books trucks on the gate file's slots and judges them with its grace, as
the live decider does (`lanes.bookings.arrival_status`): every gate's day had 1-hour slots
and a 60-minute grace until 2026-12-06, whatever its `[booking]` said (Youyiguan's 30-minute
slots and 30-minute grace among them)."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources

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
