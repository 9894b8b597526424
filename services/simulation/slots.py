"""The simulated day's bookings, taken through the live rules: a slot a firm may book at all
(`lanes.booking.Booking.new`: the gate file's booking hours, cut-off and horizon) and its
room (`lanes.bookings.SlotCapacity.has_room`: the file's capacity, overrides and perishable
share), the rules the HTTP API books by. Pure: counts in a dict, no store.

A firm books each truck the day before its slot (BOOKED_AHEAD, an ASSUMPTION), in the order
the day drew its trucks. A booking refused (the slot outside the booking hours, or full)
leaves its truck a walk-in, arriving when it was going to: the day's arrival profile (two
peaks carrying 70% of arrivals, `services/simulation/day.py`) is the traffic the gate is
sized on, and a truck's hour follows its cargo and its driver, not the slot board; a firm
that moves its truck to a free slot instead is not simulated."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lanes.booking import Booking, BookingRefused
from lanes.model import Direction, Gate

BOOKED_AHEAD = timedelta(days=1)  # ASSUMPTION: firms book the day before the slot


@dataclass(slots=True)
class SlotBook:
    """The places taken in each (direction, slot) of a simulated day, and the bookings
    refused by kind (`window`, `slot_full`: `lanes.booking.BookingRefused.kind`)."""

    gate: Gate
    places: dict[tuple[Direction, datetime], list[int]] = field(default_factory=dict)
    refused: Counter[str] = field(default_factory=Counter)

    def take(self, *, key: str, direction: Direction, perishable: bool, slot: datetime) -> bool:
        """Book the slot starting at `slot` for one truck (`key` names it) as the API would,
        `BOOKED_AHEAD` of the slot: True when booked, else False with the refusal counted."""
        try:
            booking = Booking.new(
                booking_id=f"bk-{key}",
                firm_id="simulated",
                manifest_id=f"M-{key}",
                gate=self.gate,
                direction=direction,
                perishable=perishable,
                slot_start=slot,
                now=slot - BOOKED_AHEAD,
            )
        except BookingRefused as refused:
            self.refused[refused.kind] += 1
            return False
        used = self.places.setdefault((direction, booking.slot_start), [0, 0])
        cap = booking.capacity_in(self.gate, booking.slot_start)
        if not cap.has_room(used[0], used[1], perishable=perishable):
            self.refused["slot_full"] += 1
            return False
        used[0] += 1
        used[1] += int(perishable)
        return True
