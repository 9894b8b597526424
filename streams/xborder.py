"""The cross-border wire format (issue 21): what the two sides of one gate send each other,
version 1, `borderflow.xborder.*`.

Four message types, each with a header (message id, type, schema version, sending side,
sequence number per sender, event time, crossing id) and its own fields:

- `pre-arrival-notice`: a cleared truck the other side should expect (plates, containers,
  cargo classes, hazmat class, perishable, the slot booked on the other side);
- `exit`: the truck left this side's gate at `event_time`, by road or on an autonomous
  carrier through the transfer yard;
- `entry`: a truck announced by the other side entered this side's gate;
- `ack`: a message of the other side was received and applied;
- `refusal`: a record of the other side was refused, naming its message id and the reason
  (the receiver's negative acknowledgement). Acks and refusals are replies: never
  acknowledged, and a refusal is never answered with a refusal (no loops).

`ALLOWED_FIELDS` is the data-sharing agreement: the only fields that may cross, per type.
Every model is strict (`extra="forbid"`), so a receiver refuses a field outside it, and
`outgoing_payload` refuses to serialise one (tests/unit/test_xborder_fields.py checks both
and the serialised bytes).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from lanes.containers import container_error, normalise_container
from lanes.crossings import ExitMode, Side, TruckIdentity
from lanes.model import CargoClass, Direction
from streams.codec import describe_validation_error
from streams.errors import InvalidEvent
from streams.jsonbody import load_object
from streams.timestamps import IsoAwareDatetime

SCHEMA_VERSION = 1
NOTICE_TYPE: Final = "borderflow.xborder.pre-arrival-notice"
EXIT_TYPE: Final = "borderflow.xborder.exit"
ENTRY_TYPE: Final = "borderflow.xborder.entry"
ACK_TYPE: Final = "borderflow.xborder.ack"
REFUSAL_TYPE: Final = "borderflow.xborder.refusal"
# the replies to a message: nothing acknowledges them, and a refusal of one is not sent
REPLY_TYPES: Final = frozenset({ACK_TYPE, REFUSAL_TYPE})
REASON_MAX = 2000  # a refusal's reason on the wire, in characters

MESSAGE_ID_MAX = 128  # an id's length on the wire (message, crossing, gate)
Id = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=MESSAGE_ID_MAX, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
    ),
]
Plate = Annotated[str, StringConstraints(min_length=2, max_length=16)]


def _iso6346(number: str) -> str:
    """`number` if it is an ISO 6346 number with its check digit right (lanes.containers),
    written upper case with no separators, else why not (a number written `csqu3054383`
    was told the pattern it did not match, `^[A-Z]{3}[UJZ]\\d{7}$`, until 2026-12-06)."""
    error = container_error(number)
    if error is not None:
        raise ValueError(error)
    if (written := normalise_container(number)) != number:
        raise ValueError(f"{number!r}: write it upper case with no separators, {written!r}")
    return number


# the check digit right (until 2026-12-06 only the pattern was checked: a number misread or
# mistyped by the other side was applied)
Container = Annotated[str, AfterValidator(_iso6346)]
HazmatClass = Annotated[str, StringConstraints(pattern=r"^[1-9](\.[1-6][A-Z]?)?$")]
# what the database columns hold (BIGINT sequences, INTEGER attempt): a larger number from
# the other side is an invalid message naming its field, not a driver's OverflowError
SequenceNumber = Annotated[int, Field(ge=1, le=2**63 - 1, strict=True)]
Attempt = Annotated[int, Field(ge=1, le=2**31 - 1, strict=True)]

HEADER_FIELDS = frozenset(
    {
        "message_id",
        "type",
        "schema_version",
        "sender",
        "sequence",
        "attempt",
        "event_time",
        "crossing_id",
    }
)
TRUCK_FIELDS = frozenset({"tractor_plate", "trailer_plate", "containers"})

# The data-sharing agreement: per message type, the only fields that cross. No firm, no
# manifest id, no cargo description or weights, no API keys, no controller, no notes.
ALLOWED_FIELDS: dict[str, frozenset[str]] = {
    NOTICE_TYPE: HEADER_FIELDS
    | TRUCK_FIELDS
    | {
        "from_gate",
        "to_gate",
        "direction",
        "cargo_classes",
        "hazmat_class",
        "perishable",
        "booked_slot_start",
        "booked_slot_end",
    },
    EXIT_TYPE: HEADER_FIELDS | TRUCK_FIELDS | {"from_gate", "to_gate", "direction", "mode"},
    ENTRY_TYPE: HEADER_FIELDS | TRUCK_FIELDS | {"gate_id"},
    ACK_TYPE: HEADER_FIELDS | {"acked_message_id", "acked_sequence"},
    REFUSAL_TYPE: HEADER_FIELDS | {"refused_message_id", "refused_sequence", "kind", "reason"},
}


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)

    message_id: Id
    schema_version: Literal[1] = 1
    sender: Side
    sequence: SequenceNumber
    # the transmission: 1, one more each time the sender resends the message (go-back-N).
    # Signed like the rest, so only the sender can raise it: a copy with a higher attempt
    # is the sender's resend (acknowledged again, no effect), one with the same attempt a
    # replay (refused). Optional on the wire (1), so a message without it still verifies.
    attempt: Attempt = 1
    event_time: IsoAwareDatetime
    crossing_id: Id


class _Truck(BaseModel):
    tractor_plate: Plate
    trailer_plate: Plate | None = None
    containers: list[Container] = Field(default_factory=list, max_length=4)

    def identity(self) -> TruckIdentity:
        return TruckIdentity(self.tractor_plate, self.trailer_plate, tuple(self.containers))


def slot_error(start: datetime | None, end: datetime | None) -> str | None:
    """Why a booked slot is not one, or None: a slot has both ends, the end after the
    start (until 2026-12-06 a notice whose slot ended before it started was applied, the
    crossing recorded with it and a slot booked from its start)."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        missing = "booked_slot_start" if start is None else "booked_slot_end"
        return f"{missing}: missing: a booked slot has a start and an end (or neither)"
    if end <= start:
        return (
            f"booked_slot_end {end.isoformat()} is not after booked_slot_start {start.isoformat()}"
        )
    return None


class PreArrivalNoticeV1(_Message, _Truck):
    type: Literal["borderflow.xborder.pre-arrival-notice"] = "borderflow.xborder.pre-arrival-notice"
    from_gate: Id
    to_gate: Id
    direction: Direction
    cargo_classes: list[CargoClass] = Field(default_factory=list, max_length=4)
    hazmat_class: HazmatClass | None = None
    perishable: Annotated[bool, Field(strict=True)] = False
    booked_slot_start: IsoAwareDatetime | None = None
    booked_slot_end: IsoAwareDatetime | None = None

    @model_validator(mode="after")
    def _slot(self) -> PreArrivalNoticeV1:
        error = slot_error(self.booked_slot_start, self.booked_slot_end)
        if error is not None:
            raise ValueError(error)
        return self


class ExitEventV1(_Message, _Truck):
    type: Literal["borderflow.xborder.exit"] = "borderflow.xborder.exit"
    from_gate: Id
    to_gate: Id
    direction: Direction
    mode: ExitMode


class EntryEventV1(_Message, _Truck):
    type: Literal["borderflow.xborder.entry"] = "borderflow.xborder.entry"
    gate_id: Id


class AckV1(_Message):
    type: Literal["borderflow.xborder.ack"] = "borderflow.xborder.ack"
    acked_message_id: Id
    acked_sequence: SequenceNumber


RefusalKind = Literal[
    "unsigned", "unknown_key", "bad_signature", "invalid", "replayed", "reordered"
]


class RefusalV1(_Message):
    """The receiver refused a record of the other side: the message id it named (and its
    sequence, when that could be read), the kind (`dlq.error.type`) and the reason
    (`dlq.error`). Header: the refused message's event time and crossing when they could be
    read (else the time it was received and the refused message id)."""

    type: Literal["borderflow.xborder.refusal"] = "borderflow.xborder.refusal"
    refused_message_id: Id
    refused_sequence: SequenceNumber | None = None
    kind: RefusalKind
    reason: Annotated[str, StringConstraints(min_length=1, max_length=REASON_MAX)]


XBorderMessage = Annotated[
    PreArrivalNoticeV1 | ExitEventV1 | EntryEventV1 | AckV1 | RefusalV1,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[XBorderMessage] = TypeAdapter(XBorderMessage)
MESSAGE_MODELS: dict[str, type[_Message]] = {
    NOTICE_TYPE: PreArrivalNoticeV1,
    EXIT_TYPE: ExitEventV1,
    ENTRY_TYPE: EntryEventV1,
    ACK_TYPE: AckV1,
    REFUSAL_TYPE: RefusalV1,
}


def outgoing_payload(message: BaseModel) -> bytes:
    """The bytes that cross for `message`: its JSON with the agreement's fields only, keys
    sorted. A field outside the allow-list is an error here, before anything is signed."""
    data = message.model_dump(mode="json")
    allowed = ALLOWED_FIELDS.get(str(data.get("type")))
    if allowed is None:
        raise InvalidEvent(f"type: {data.get('type')!r} may not cross")
    extra = sorted(set(data) - allowed)
    if extra:
        raise InvalidEvent(f"fields outside the data-sharing agreement: {extra}")
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def decode_message(payload: bytes) -> XBorderMessage:
    """A message from its (verified) payload bytes, or InvalidEvent naming the field."""
    obj = load_object(payload, what="a message", where="payload: ")
    allowed = ALLOWED_FIELDS.get(str(obj.get("type")))
    if allowed is not None and (extra := sorted(set(obj) - allowed)):
        raise InvalidEvent(f"fields outside the data-sharing agreement: {extra}")
    try:
        return _ADAPTER.validate_python(obj)
    except ValidationError as exc:
        raise InvalidEvent(describe_validation_error(exc, prefix="payload.")) from exc


class MessageHeader(BaseModel):
    """The header of a signed message that is not a valid message (a type or version this
    side does not know, a field out of range or outside the agreement): what its place in
    its sender's sequence needs, so that it is counted as received (and refused) rather
    than holding back every message after it."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=False)

    message_id: Id
    type: Annotated[str, StringConstraints(max_length=64)] = ""
    sender: Side
    sequence: SequenceNumber
    attempt: Attempt = 1
    event_time: IsoAwareDatetime
    crossing_id: Id


def decode_header(payload: bytes) -> MessageHeader | None:
    """The header of a payload that `decode_message` refused, or None if the header itself
    is not readable (then the message has no place in the sequence)."""
    try:
        return MessageHeader.model_validate(load_object(payload, what="a message"))
    except (InvalidEvent, ValidationError):
        return None


@dataclass(frozen=True, slots=True)
class Legible:
    """What can be read of a record that is no valid message and has no place in its
    sender's sequence (its header not valid, or its signature not verified): each header
    field that is valid on its own, else None. It is what the record *says* it is, for the
    control room's list of refusals and the refusal sent back (never a header: it counts
    for nothing in the sequence)."""

    message_id: str | None = None
    type: str | None = None
    sender: str | None = None
    sequence: int | None = None
    crossing_id: str | None = None
    event_time: datetime | None = None


_LEGIBLE: dict[str, TypeAdapter[Any]] = {
    "message_id": TypeAdapter(Id),
    "type": TypeAdapter(Annotated[str, StringConstraints(pattern=r"^[a-z0-9._-]{1,64}$")]),
    "sender": TypeAdapter(Side),
    "sequence": TypeAdapter(SequenceNumber),
    "crossing_id": TypeAdapter(Id),
    "event_time": TypeAdapter(IsoAwareDatetime),
}


def legible(payload: bytes) -> Legible | None:
    """What can be read of `payload` (a JSON object), or None if nothing can. Of an object
    that gives a member more than once (refused for it), the members given once: its id
    and sequence name it for the refusal sent back (until 2026-12-06 such a message was
    refused as unreadable and its sender told nothing); a member given twice is not read."""
    try:
        obj = load_object(payload, what="a message")
    except InvalidEvent:
        given_once = _members_given_once(payload)
        if given_once is None:
            return None
        obj = given_once
    found: dict[str, Any] = {}
    for name, adapter in _LEGIBLE.items():
        if name in obj:
            try:
                found[name] = adapter.validate_python(obj[name])
            except ValidationError:
                continue
    if not found:
        return None
    if "sender" in found:
        found["sender"] = found["sender"].value
    return Legible(**found)


def _members_given_once(payload: bytes) -> dict[str, Any] | None:
    """The top-level members of a JSON object that are given once, or None when it is no
    JSON object (what `load_object` refuses for other reasons stays unread)."""

    def once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        given = Counter(name for name, _ in pairs)
        return {name: value for name, value in pairs if given[name] == 1}

    try:
        obj = json.loads(payload.decode("utf-8-sig"), object_pairs_hook=once)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def event_time_of(message: XBorderMessage) -> datetime:
    return message.event_time
