"""Lane events: what happens at the gate after a decision, from lane controllers, lane-entry
and exit cameras, and the carrier fleet. Topic `borderflow.lane-events`, keyed by `gate_id`
(a gate's events stay in order). Bare or enveloped (`type` "lane_event")."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from streams.codec import describe_validation_error
from streams.errors import InvalidEvent
from streams.jsonbody import load_object
from streams.timestamps import IsoAwareDatetime

LANE_EVENT_TYPE = "lane_event"

Id = Annotated[str, StringConstraints(min_length=1, max_length=128, strip_whitespace=True)]
LaneEventKind = Literal[
    "truck_entered",  # a truck entered a lane (lane-entry camera): needs visit_id, lane_id
    "truck_left",  # a truck left the gate area (exit camera): needs visit_id
    "lane_opened",  # needs lane_id
    "lane_closed",  # needs lane_id: the trucks queued on it are re-planned
    "carrier_out",  # a carrier out of service: needs carrier_id; its trips are re-planned
    "carrier_back",  # needs carrier_id
    "carrier_departed",  # needs carrier_id
    "carrier_arrived",  # needs carrier_id
]
_NEEDS: dict[str, tuple[str, ...]] = {
    "truck_entered": ("visit_id", "lane_id"),
    "truck_left": ("visit_id",),
    "lane_opened": ("lane_id",),
    "lane_closed": ("lane_id",),
    "carrier_out": ("carrier_id",),
    "carrier_back": ("carrier_id",),
    "carrier_departed": ("carrier_id",),
    "carrier_arrived": ("carrier_id",),
}


class LaneEventV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: Id
    gate_id: Id
    kind: LaneEventKind
    at: IsoAwareDatetime
    visit_id: Id | None = None
    lane_id: Id | None = None
    carrier_id: Id | None = None
    reason: Annotated[str, StringConstraints(max_length=500)] = ""
    actor: Annotated[str, StringConstraints(max_length=128)] = ""  # who or what sent it


def decode_lane_event(value: bytes | None) -> LaneEventV1:
    obj = load_object(value, what="a lane event")
    if "data" in obj and "type" in obj:
        if obj.get("type") != LANE_EVENT_TYPE:
            raise InvalidEvent(f"type: expected {LANE_EVENT_TYPE!r}, got {obj.get('type')!r}")
        if obj.get("version") != 1:
            raise InvalidEvent(f"version: unsupported lane_event version {obj.get('version')!r}")
        obj = obj["data"] if isinstance(obj["data"], dict) else {"data": obj["data"]}
    try:
        event = LaneEventV1.model_validate(obj)
    except ValidationError as exc:
        raise InvalidEvent(describe_validation_error(exc)) from exc
    missing = [name for name in _NEEDS[event.kind] if getattr(event, name) is None]
    if missing:
        raise InvalidEvent(f"{missing[0]}: required for a {event.kind} event")
    return event
