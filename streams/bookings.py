"""The wire format of `borderflow.bookings`: one event per change of a booking, enveloped
(`streams.events.Envelope`), keyed by booking_id. Consumers deduplicate on `event_id`:
the outbox publishes at least once."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict

BookingEventType = Literal[
    "booking.created",
    "booking.rescheduled",
    "booking.cancelled",
    "booking.used",
    "booking.no_show",
    "booking.lost_late",
    "booking.checked_in",
]
BOOKING_EVENT_TYPES: tuple[str, ...] = get_args(BookingEventType)


class BookingEventV1(BaseModel):
    """The booking as it is after the change (`previous_slot_start`: a reschedule's old
    slot). `booking.checked_in` changes nothing of the booking (same `version`): its truck
    is in the gate's waiting area since `occurred_at`, and call-forward queues it there."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str
    type: BookingEventType
    booking_id: str
    firm_id: str
    manifest_id: str
    gate_id: str
    direction: Literal["export", "import"]
    slot_start: AwareDatetime
    slot_end: AwareDatetime
    perishable: bool
    status: Literal["active", "cancelled", "lost_late", "no_show", "used"]
    version: int
    occurred_at: datetime
    previous_slot_start: AwareDatetime | None = None
