"""The data-sharing agreement (issue 21): nothing outside the allow-list crosses.

The outgoing messages are built from local events that carry much more (firm, manifest,
cargo description and weight, controller, notes, an API key under `internal`); the test
asserts on the bytes that go on the wire, payload decoded, not on the models."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from lanes.crossings import Side
from streams.errors import InvalidEvent
from streams.xborder import (
    ACK_TYPE,
    ALLOWED_FIELDS,
    MESSAGE_MODELS,
    AckV1,
    ExitEventV1,
    decode_message,
    outgoing_payload,
)
from streams.xborder_local import LocalCrossingEventV1, build_message, decode_local_event
from streams.xborder_sign import SigningKey, sign

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
SECRETS = {
    "manifest_id": "MANIFEST-SECRET-1",
    "firm_id": "FIRM-SECRET-2",
    "cargo_description": "DESCRIPTION-SECRET-3 durian 20t",
    "controller_id": "CONTROLLER-SECRET-4",
    "notes": "NOTE-SECRET-5 driver was rude",
}
INTERNAL = {"api_key": "bfk_live_SECRETKEY6", "controller_ip": "10.9.8.7", "risk": "SECRET-7"}
KEY = SigningKey.generate("vn-test-1", Side.VN)


def _local(kind: str, **extra: object) -> LocalCrossingEventV1:
    return LocalCrossingEventV1(
        event_id=f"ev-{kind}",
        kind=kind,  # type: ignore[arg-type]
        at=T0,
        crossing_id="x-1" if kind != "entry" else None,
        gate_id="huu-nghi",
        peer_gate_id="youyiguan" if kind != "entry" else None,
        direction="export" if kind != "entry" else None,  # type: ignore[arg-type]
        tractor_plate="29H12345",
        trailer_plate="29R01234",
        containers=["CSQU3054383"],
        cargo_classes=["container", "perishable"],  # type: ignore[list-item]
        perishable=True,
        booked_slot_start=T0 + timedelta(hours=1),
        booked_slot_end=T0 + timedelta(hours=2),
        mode="road" if kind == "exit" else None,  # type: ignore[arg-type]
        gross_weight_kg=23_456.5,
        internal=INTERNAL,
        **SECRETS,  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )


def _wire(kind: str) -> tuple[bytes, dict[str, object]]:
    message = build_message(_local(kind), sender=Side.VN, sequence=7, crossing_id="x-1")
    wire = sign(message, KEY)
    payload = base64.b64decode(json.loads(wire)["payload"])
    return wire, json.loads(payload)


@pytest.mark.parametrize("kind", ["notice", "exit", "entry"])
def test_only_allowed_fields_cross(kind: str) -> None:
    wire, payload = _wire(kind)
    assert set(payload) <= ALLOWED_FIELDS[str(payload["type"])]
    decoded = base64.b64decode(json.loads(wire)["payload"]).decode()
    for secret in [*SECRETS.values(), *INTERNAL.values(), "23456"]:
        assert secret not in wire.decode(), secret
        assert secret not in decoded, secret
    assert set(json.loads(wire)) == {"format", "key_id", "signature", "payload"}


def test_the_notice_carries_what_the_agreement_lists() -> None:
    _, payload = _wire("notice")
    assert payload["tractor_plate"] == "29H12345"
    assert payload["trailer_plate"] == "29R01234"
    assert payload["containers"] == ["CSQU3054383"]
    assert payload["cargo_classes"] == ["container", "perishable"]
    assert payload["perishable"] is True
    assert payload["booked_slot_start"] == "2026-11-24T09:00:00Z"
    assert payload["sender"] == "VN" and payload["sequence"] == 7


def test_every_model_field_is_in_the_agreement() -> None:
    """A field added to a wire model without the agreement fails here first."""
    for type_, model in MESSAGE_MODELS.items():
        assert set(model.model_fields) == ALLOWED_FIELDS[type_], type_


def test_a_field_outside_the_agreement_is_not_serialised() -> None:
    class Leaky(AckV1):
        model_config = {"extra": "allow"}  # noqa: RUF012

    leaky = Leaky(
        message_id="VN:a",
        sender=Side.VN,
        sequence=1,
        event_time=T0,
        crossing_id="x",
        acked_message_id="CN:b",
        acked_sequence=1,
        notes="secret",  # type: ignore[call-arg]
    )
    with pytest.raises(InvalidEvent, match="outside the data-sharing agreement"):
        outgoing_payload(leaky)


def test_a_received_field_outside_the_agreement_is_refused() -> None:
    message = ExitEventV1(
        message_id="VN:e",
        sender=Side.VN,
        sequence=1,
        event_time=T0,
        crossing_id="x",
        tractor_plate="29H12345",
        from_gate="huu-nghi",
        to_gate="youyiguan",
        direction="export",  # type: ignore[arg-type]
        mode="road",  # type: ignore[arg-type]
    )
    obj = json.loads(outgoing_payload(message))
    obj["firm_id"] = "FIRM-1"
    with pytest.raises(InvalidEvent, match=r"outside the data-sharing agreement: \['firm_id'\]"):
        decode_message(json.dumps(obj).encode())


def test_ack_fields() -> None:
    assert ALLOWED_FIELDS[ACK_TYPE] >= {"acked_message_id", "acked_sequence"}


def test_local_event_needs_its_crossing_fields() -> None:
    raw = _local("exit").model_dump_json(exclude={"mode"}).encode()
    with pytest.raises(InvalidEvent, match="mode: required"):
        decode_local_event(raw)
    assert decode_local_event(_local("entry").model_dump_json().encode()).kind == "entry"


def test_a_local_notice_whose_slot_ends_before_it_starts_is_dead_lettered() -> None:
    """Not built into a message the receiver would refuse (nor a ValidationError in the
    outbound loop): the local event is refused with the reason."""
    wrong = _local("notice").model_copy(update={"booked_slot_end": T0})
    with pytest.raises(InvalidEvent, match=r"booked_slot_end .* is not after booked_slot_start"):
        decode_local_event(wrong.model_dump_json().encode())
    half = _local("notice").model_copy(update={"booked_slot_start": None})
    with pytest.raises(InvalidEvent, match="booked_slot_start: missing"):
        decode_local_event(half.model_dump_json().encode())
