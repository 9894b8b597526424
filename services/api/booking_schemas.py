"""HTTP bodies of `/v1/bookings` and `/v1/slots` (wire formats only)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from lanes.bookings import BookingState
from lanes.model import Direction
from streams.manifests import ID_PATTERN
from streams.timestamps import IsoAwareDatetime

ManifestId = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=64, pattern=ID_PATTERN)
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
Cursor = Annotated[
    str | None,
    Query(max_length=64, pattern=ID_PATTERN, description="the `next` of the previous page"),
]


class BookingRequest(BaseModel):
    """Book a manifest into the slot starting at `slot_start` (its end follows from the
    gate's slot length); direction and cargo come from the manifest."""

    model_config = ConfigDict(extra="forbid")

    manifest_id: ManifestId
    slot_start: IsoAwareDatetime = Field(description="a slot boundary, ISO 8601 with offset")
    gate: GateId | None = Field(default=None, description="default: this system's gate")
    driver_phone: DriverPhone | None = Field(
        default=None,
        description="the driver's mobile number in E.164 (+84..., +86...): each call forward "
        "from the waiting area is also sent there by SMS; kept with the driver's page, never "
        "published on Kafka",
    )


class RescheduleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot_start: IsoAwareDatetime = Field(description="the new slot's start, ISO 8601 with offset")


class BookingView(BaseModel):
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
