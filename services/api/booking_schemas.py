"""HTTP bodies of `/v1/bookings` and `/v1/slots` (wire formats only)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from lanes.bookings import BookingState
from lanes.model import Direction
from streams.manifests import ID_PATTERN, normalise_id
from streams.timestamps import IsoAwareDatetime

# a manifest id, wherever a firm sends one: the blanks around it dropped, as the manifest's
# own intake does (" MF-1 " was refused on a booking, with the regex for a reason)
ManifestId = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=64, pattern=ID_PATTERN),
    BeforeValidator(normalise_id),  # last: it runs first, the schema keeps the pattern
]
GateId = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=64, pattern=ID_PATTERN)
]
# An id in a path or a page cursor: the manifest-id alphabet (no control characters).
# E.164: a plus, a country code, at most 15 digits in all
E164 = r"^\+[1-9][0-9]{6,14}$"


def _e164(value: object) -> object:
    """A number not in E.164 is refused saying what E.164 is, not with the pattern's regex
    ('String should match pattern ...' was all a firm sending '0912345678' was told)."""
    if isinstance(value, str) and re.fullmatch(E164, value) is None:
        raise ValueError(
            f"{value!r} is not an E.164 number: '+', the country code, then the number, "
            "digits only, no spaces or leading 0 (e.g. +84912345678, +8613812345678)"
        )
    return value


DriverPhone = Annotated[str, BeforeValidator(_e164), StringConstraints(pattern=E164)]
IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
ManifestIdPath = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=ID_PATTERN, examples=["MF-2026-0001"]),
    BeforeValidator(normalise_id),
]
Cursor = Annotated[
    str | None,
    Query(max_length=64, pattern=ID_PATTERN, description="the `next` of the previous page"),
]


# What the schema cannot say of a slot (it depends on the gate and on the time of asking),
# said to the reader: a schema-driven client's slot_start was refused with nothing to go by
# The figures of the packaged gate, as the reference shows them; a running system's document
# says those of its own gates (services.api.gate_enum.slot_figures, in place of these)
SLOT_FIGURES = (
    "at huu-nghi: 60-min slots within 06:00-22:00 at UTC+07:00, up to 7 days ahead, "
    "until 30 min before the slot"
)
SLOT_START = (
    "the start of one of the gate's slots, ISO 8601 with offset: on a slot boundary of the "
    "gate's local day, within its bookable hours, and open for booking (up to its horizon, "
    f"until its cut-off; {SLOT_FIGURES}): `GET /v1/slots` lists them with `open`"
)
RESCHEDULE_SLOT_START = f"the new slot: {SLOT_START}"


class BookingRequest(BaseModel):
    """Book a manifest into the slot starting at `slot_start` (its end follows from the
    gate's slot length); direction and cargo come from the manifest."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "manifest_id": "MF-2026-0001",
                    "slot_start": "2026-12-07T09:00:00+07:00",
                    "driver_phone": "+84912345678",
                }
            ]
        },
    )

    manifest_id: ManifestId = Field(description="one of your firm's manifests")
    slot_start: IsoAwareDatetime = Field(description=SLOT_START)
    gate: GateId | None = Field(
        default=None, description="one of the system's gates (huu-nghi); default: this system's"
    )
    driver_phone: DriverPhone | None = Field(
        default=None,
        description="the driver's mobile number in E.164 (+84..., +86...): each call forward "
        "from the waiting area is also sent there by SMS; kept with the driver's page, never "
        "published on Kafka",
    )


class RescheduleRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"slot_start": "2026-12-07T10:00:00+07:00"}]},
    )

    slot_start: IsoAwareDatetime = Field(description=RESCHEDULE_SLOT_START)


# A member is refused, not ignored: cancel and check-in ignored any body, so a client
# sending `{"reason": "..."}` believed it was used (found by a client's eye)
class EmptyBody(BaseModel):
    """Nothing: the operation takes no body (leave it out, or send `{}` or `null`); a
    member is refused with a 422 naming it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})


# every field of an answer is sent (`driver_page` always): required in the document, so a
# generated client does not type it optional
_ALWAYS_SENT = ConfigDict(json_schema_serialization_defaults_required=True)


class BookingView(BaseModel):
    model_config = _ALWAYS_SENT

    booking_id: str
    manifest_id: str
    gate_id: str
    direction: Direction
    slot_start: datetime
    slot_end: datetime
    perishable: bool
    status: BookingState
    created_at: datetime
    updated_at: datetime
    version: int
    driver_page: str | None = Field(
        default=None,
        description="the driver's page of this booking, an absolute URL with an unguessable "
        "token (under the system's public URL, else this request's base URL; before "
        "2026-12-05 late a path, `/d/...`): pass it to the driver as it is (e.g. by SMS); it "
        "shows the truck's place in the waiting area and its call, in the driver's language, "
        "and nothing of other trucks",
    )


class BookingPage(BaseModel):
    items: list[BookingView]
    next: str | None = Field(description="pass as `after` for the next page; null: no more")


class SlotView(BaseModel):
    slot_start: datetime
    slot_end: datetime
    capacity: int = Field(description="trucks the slot takes in this direction")
    reserved: int = Field(description="of the capacity, kept for perishable cargo")
    booked: int
    booked_perishable: int
    left: int = Field(description="what a perishable load may still take")
    left_general: int = Field(description="what a non-perishable load may still take")
    closes_at: datetime = Field(description="bookings for the slot close then (the cut-off)")
    open: bool = Field(
        description="bookings for the slot are open now: it is within the booking horizon "
        "and `closes_at` has not passed; a booking for a slot that is not open is refused, "
        "whatever `left` says"
    )


class SlotList(BaseModel):
    gate_id: str
    direction: Direction
    slot_minutes: int
    slots: list[SlotView]
