"""Decoding and encoding of wire events. Every failure is an `InvalidEvent` with a reason
precise enough to fix the producer (it travels to the dead-letter topic in a header)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from lanes.model import Candidate, PlateRead
from streams.bookings import BookingEventV1
from streams.errors import InvalidEvent
from streams.events import PLATE_READ_TYPE, Envelope, PlateReadV1
from streams.jsonbody import load_object

SUPPORTED_PLATE_READ_VERSIONS = frozenset({1})


# Parametrised once: pydantic keeps its generic parametrisations only weakly, and building
# one again costs a schema build (~3 ms) on every read decoded and event encoded.
_READ_ENVELOPE = Envelope[PlateReadV1]
_BOOKING_ENVELOPE = Envelope[BookingEventV1]
_ANY_ENVELOPE = Envelope[Any]


def describe_validation_error(exc: ValidationError, *, prefix: str = "") -> str:
    """`field.path: message` for each error, joined: one line a person can act on."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        # pydantic prefixes a validator's own message with "Value error, ": not for people
        parts.append(f"{prefix}{loc}: {str(err['msg']).removeprefix('Value error, ')}")
    return "; ".join(parts)


def decode_plate_read(value: bytes | None) -> PlateReadV1:
    """A plate read from either the envelope or the plain JSON form."""
    obj = load_object(value, what="a plate read")
    # an envelope that lost its data is still one: told "data: Field required", not that
    # camera_id, captured_at, plate_text and confidence are missing (a bare read's fields)
    if ("data" in obj and "type" in obj) or obj.get("type") == PLATE_READ_TYPE:
        return _decode_enveloped_read(obj)
    try:
        return PlateReadV1.model_validate(obj)
    except ValidationError as exc:
        raise InvalidEvent(describe_validation_error(exc)) from exc


def decode_booking_event(value: bytes | None) -> BookingEventV1:
    """A booking event of `borderflow.bookings`: in borderflow's envelope (version 1), as
    the booking outbox sends it, or its plain JSON form."""
    obj = load_object(value, what="a booking event")
    try:
        if "data" in obj and "type" in obj:
            if obj.get("version") != 1:
                version = obj.get("version")
                raise InvalidEvent(
                    f"version: unsupported booking event version {version!r} (supported: [1])"
                )
            return _BOOKING_ENVELOPE.model_validate(obj).data
        return BookingEventV1.model_validate(obj)
    except ValidationError as exc:
        raise InvalidEvent(describe_validation_error(exc)) from exc


def _decode_enveloped_read(obj: dict[str, Any]) -> PlateReadV1:
    if obj.get("type") != PLATE_READ_TYPE:
        raise InvalidEvent(f"type: expected {PLATE_READ_TYPE!r}, got {obj.get('type')!r}")
    version = obj.get("version")
    if version not in SUPPORTED_PLATE_READ_VERSIONS:
        raise InvalidEvent(
            f"version: unsupported {PLATE_READ_TYPE} version {version!r} "
            f"(supported: {sorted(SUPPORTED_PLATE_READ_VERSIONS)})"
        )
    data = obj.get("data")
    # The envelope's event_id stands in for the read's own when the read carries none
    # (under either of its names).
    if isinstance(data, dict) and not {"event_id", "read_id"} & data.keys() and "event_id" in obj:
        obj = {**obj, "data": {**data, "event_id": obj["event_id"]}}
    try:
        envelope = _READ_ENVELOPE.model_validate(obj)
    except ValidationError as exc:
        raise InvalidEvent(describe_validation_error(exc)) from exc
    return envelope.data


def plate_read_from_wire(wire: PlateReadV1) -> PlateRead:
    """The domain's view of a decoded read: candidates, per-character confidences (of the
    normalised plate text) and container numbers as tuples."""
    return PlateRead(
        event_id=wire.event_id,
        camera_id=wire.camera_id,
        captured_at=wire.captured_at,
        plate_text=wire.plate_text,
        confidence=wire.confidence,
        candidates=tuple(Candidate(c.text, c.confidence) for c in wire.candidates),
        char_confidences=(
            tuple(wire.char_confidences) if wire.char_confidences is not None else None
        ),
        container_numbers=tuple(wire.container_numbers),
    )


def encode(model: BaseModel) -> bytes:
    return model.model_dump_json().encode("utf-8")


def encode_enveloped(
    data: BaseModel, *, event_id: str, type_: str, occurred_at: datetime, producer: str
) -> tuple[bytes, list[tuple[str, bytes]]]:
    """An event in borderflow's envelope (version 1), with its type in Kafka headers."""
    envelope = _ANY_ENVELOPE(
        event_id=event_id,
        type=type_,
        version=1,
        occurred_at=occurred_at,
        producer=producer,
        data=data,
    )
    return encode(envelope), [("event-type", type_.encode()), ("event-version", b"1")]
