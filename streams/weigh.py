"""Weigh-in-motion: a station in the approach road weighs each truck as it passes and reads
its plate (issue 22). Topic `borderflow.weigh-in-motion` (key station_id), stored by
services/workers/weighings.py for the decider's alert step (the overweight rule); the alert
bench (bench/alerts.py) feeds these to `lanes.alerts` through `to_domain`.

Strict on the wire: numbers are numbers ("41000" and true are refused), times are ISO 8601
text with an offset, unknown fields are refused."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lanes.alerts import WeighIn
from lanes.plates import normalise_plate
from streams.codec import describe_validation_error
from streams.errors import InvalidEvent
from streams.events import EventId, PlateText, ShortText
from streams.jsonbody import load_object
from streams.text import unstorable_text
from streams.timestamps import IsoAwareDatetime

WEIGH_IN_MOTION_TYPE = "weigh_in_motion"

Kilograms = Annotated[float, Field(strict=True, gt=0, le=200_000, allow_inf_nan=False)]


class WeighInMotionV1(BaseModel):
    """One truck weighed in motion: gross weight in kg; `axle_weights_kg` when the station
    gives them; `plate_text` as the station's camera read it (candidates after it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: EventId
    station_id: ShortText
    gate_id: ShortText
    captured_at: IsoAwareDatetime
    plate_text: PlateText
    plate_candidates: list[PlateText] = Field(default_factory=list, max_length=10)
    gross_weight_kg: Kilograms
    axle_weights_kg: list[Kilograms] | None = Field(default=None, max_length=12)
    speed_kmh: Annotated[float, Field(strict=True, ge=0, le=200, allow_inf_nan=False)] | None = None

    def to_domain(self) -> WeighIn:
        return WeighIn(
            event_id=self.event_id,
            station_id=self.station_id,
            gate_id=self.gate_id,
            at=self.captured_at,
            plate=normalise_plate(self.plate_text),
            gross_weight_kg=self.gross_weight_kg,
            alternatives=tuple(normalise_plate(t) for t in self.plate_candidates),
        )


def decode_weigh_in_motion(value: bytes | None) -> WeighInMotionV1:
    """A bare or enveloped (`type` "weigh_in_motion", version 1) weighing; InvalidEvent
    naming the field otherwise."""
    obj = load_object(value, what="a weighing")
    if "data" in obj and "type" in obj:
        if obj.get("type") != WEIGH_IN_MOTION_TYPE:
            raise InvalidEvent(f"type: expected {WEIGH_IN_MOTION_TYPE!r}, got {obj.get('type')!r}")
        if obj.get("version") != 1:
            raise InvalidEvent(f"version: unsupported {WEIGH_IN_MOTION_TYPE} version")
        obj = obj["data"] if isinstance(obj["data"], dict) else {"data": obj["data"]}
    if (bad := unstorable_text(obj)) is not None:
        raise InvalidEvent(bad)
    try:
        return WeighInMotionV1.model_validate(obj)
    except ValidationError as exc:
        raise InvalidEvent(describe_validation_error(exc)) from exc
