"""This side's own crossing events, on its own broker (`borderflow.xborder.outbound`), and
how each becomes the message that may cross.

A local event carries what this side knows (the manifest and firm, the cargo's description
and weight, the controller who cleared it, notes, anything else under `internal`); the link
worker turns it into a `streams.xborder` message by *picking* the agreement's fields, never
by copying and deleting, so a field added here later does not cross by accident.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from lanes.crossings import ExitMode, Side, TruckIdentity
from lanes.model import CargoClass, Direction
from streams.codec import describe_validation_error
from streams.errors import InvalidEvent
from streams.jsonbody import load_object
from streams.timestamps import IsoAwareDatetime
from streams.xborder import (
    Container,
    EntryEventV1,
    ExitEventV1,
    HazmatClass,
    Id,
    Plate,
    PreArrivalNoticeV1,
    XBorderMessage,
    slot_error,
)

LocalKind = Literal["notice", "exit", "entry"]


class LocalCrossingEventV1(BaseModel):
    """A crossing event of this side, as its own services publish it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: Id
    kind: LocalKind
    at: IsoAwareDatetime  # event time: cleared, left the gate, entered the gate
    # None on an entry the side could not tie to a notice: the link worker matches it
    crossing_id: Id | None = None
    gate_id: Id  # this side's gate
    peer_gate_id: Id | None = None  # the other side's gate (notice, exit)
    direction: Direction | None = None
    tractor_plate: Plate
    trailer_plate: Plate | None = None
    containers: list[Container] = Field(default_factory=list, max_length=4)
    cargo_classes: list[CargoClass] = Field(default_factory=list, max_length=4)
    hazmat_class: HazmatClass | None = None
    perishable: bool = False
    booked_slot_start: IsoAwareDatetime | None = None
    booked_slot_end: IsoAwareDatetime | None = None
    mode: ExitMode | None = None
    # what stays on this side
    manifest_id: str | None = None
    firm_id: str | None = None
    cargo_description: str = ""
    gross_weight_kg: float | None = None
    controller_id: str | None = None
    notes: Annotated[str, StringConstraints(max_length=2000)] = ""
    internal: dict[str, str] = Field(default_factory=dict)

    def identity(self) -> TruckIdentity:
        return TruckIdentity(self.tractor_plate, self.trailer_plate, tuple(self.containers))


def decode_local_event(raw: bytes | None) -> LocalCrossingEventV1:
    obj = load_object(raw, what="a crossing event")
    try:
        event = LocalCrossingEventV1.model_validate(obj)
    except ValidationError as exc:
        raise InvalidEvent(describe_validation_error(exc)) from exc
    if event.kind != "entry" and (event.crossing_id is None or event.peer_gate_id is None):
        raise InvalidEvent(f"crossing_id, peer_gate_id: required on a {event.kind}")
    if event.kind != "entry" and event.direction is None:
        raise InvalidEvent(f"direction: required on a {event.kind}")
    if event.kind == "exit" and event.mode is None:
        raise InvalidEvent("mode: required on an exit")
    if (error := slot_error(event.booked_slot_start, event.booked_slot_end)) is not None:
        raise InvalidEvent(error)  # the message built from it would not be valid
    return event


def message_id_for(sender: Side, event_id: str) -> str:
    """The crossing message's id: the sender and this side's event id (stable on retry)."""
    return f"{sender.value}:{event_id}"


def build_message(
    event: LocalCrossingEventV1, *, sender: Side, sequence: int, crossing_id: str
) -> XBorderMessage:
    """The message the agreement lets cross for `event`, field by field."""
    header: dict[str, Any] = {
        "message_id": message_id_for(sender, event.event_id),
        "sender": sender,
        "sequence": sequence,
        "event_time": event.at,
        "crossing_id": crossing_id,
    }
    truck: dict[str, Any] = {
        "tractor_plate": event.tractor_plate,
        "trailer_plate": event.trailer_plate,
        "containers": list(event.containers),
    }
    if event.kind == "notice":
        return PreArrivalNoticeV1(
            **header,
            **truck,
            from_gate=event.gate_id,
            to_gate=event.peer_gate_id,
            direction=event.direction,
            cargo_classes=list(event.cargo_classes),
            hazmat_class=event.hazmat_class,
            perishable=event.perishable,
            booked_slot_start=event.booked_slot_start,
            booked_slot_end=event.booked_slot_end,
        )
    if event.kind == "exit":
        return ExitEventV1(
            **header,
            **truck,
            from_gate=event.gate_id,
            to_gate=event.peer_gate_id,
            direction=event.direction,
            mode=event.mode,
        )
    return EntryEventV1(**header, **truck, gate_id=event.gate_id)
