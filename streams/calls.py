"""Calls forward from the waiting area (issue 23): topic `borderflow.calls`, key `visit_id`,
enveloped, type `truck.called`, `truck.recalled` or `truck.place_lost`. The call id is the
notification's idempotency key: a call is sent to the driver and the firm once."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lanes.policy.callforward import CallKind, PlaceLost, TruckCalled
from streams.codec import describe_validation_error, encode_enveloped
from streams.errors import InvalidEvent
from streams.events import EventId, ShortText
from streams.jsonbody import load_object
from streams.timestamps import IsoAwareDatetime

CallType = Literal["truck.called", "truck.recalled", "truck.place_lost"]
_TYPES: dict[CallKind, CallType] = {
    CallKind.CALL: "truck.called",
    CallKind.RECALL: "truck.recalled",
}


class CallEventV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    call_id: EventId  # for a lost place: the last call's id + "/lost"
    visit_id: EventId
    gate_id: ShortText
    area_id: ShortText
    type: CallType
    occurred_at: IsoAwareDatetime
    due_at: IsoAwareDatetime | None = None
    deadline: IsoAwareDatetime | None = None
    lane_id: ShortText | None = None
    carrier_slot: ShortText | None = None
    expected_start_at: IsoAwareDatetime | None = None
    manifest_id: EventId | None = None
    reason: str = Field(max_length=2000)
    # a lost place taken back because the truck's booking was cancelled (not a missed call)
    withdrawn: bool = False


def call_to_wire(event: TruckCalled | PlaceLost) -> CallEventV1:
    if isinstance(event, PlaceLost):
        return CallEventV1(
            call_id=f"{event.last_call_id}/lost",
            visit_id=event.visit_id,
            gate_id=event.gate_id,
            area_id=event.area_id,
            type="truck.place_lost",
            occurred_at=event.at,
            deadline=event.deadline,
            manifest_id=event.manifest_id,
            reason=event.reason,
            withdrawn=event.withdrawn,
        )
    return CallEventV1(
        call_id=event.call_id,
        visit_id=event.visit_id,
        gate_id=event.gate_id,
        area_id=event.area_id,
        type=_TYPES[event.kind],
        occurred_at=event.called_at,
        due_at=event.due_at,
        deadline=event.deadline,
        lane_id=event.lane_id,
        carrier_slot=event.carrier_slot,
        expected_start_at=event.expected_start_at,
        manifest_id=event.manifest_id,
        reason=event.reason,
    )


def encode_call(
    wire: CallEventV1, *, producer: str = "borderflow-calls"
) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The enveloped record; its event id is the call id (a re-send is the same event)."""
    return encode_enveloped(
        wire, event_id=wire.call_id, type_=wire.type, occurred_at=wire.occurred_at,
        producer=producer,
    )  # fmt: skip


def decode_call(value: bytes | None) -> CallEventV1:
    """An enveloped call event; anything else is an InvalidEvent (to the dead letters)."""
    obj = load_object(value, what="a call event")
    if not isinstance(obj.get("data"), dict):
        raise InvalidEvent("data: a call event is enveloped (an object with 'data')")
    if obj.get("version") != 1:
        raise InvalidEvent(f"version: unsupported call version {obj.get('version')!r}")
    try:
        return CallEventV1.model_validate(obj["data"])
    except ValidationError as exc:
        raise InvalidEvent(describe_validation_error(exc)) from exc
