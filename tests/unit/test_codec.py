"""Plate reads on the wire: both forms, the `read_id` alias, container numbers, and the
mapping to the domain's `PlateRead`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from lanes.model import Candidate, PlateRead
from streams.codec import decode_plate_read, encode, plate_read_from_wire
from streams.errors import InvalidEvent
from streams.events import PlateReadV1

AT = "2025-06-01T10:00:00+07:00"


def _body(**fields: Any) -> dict[str, Any]:
    return {
        "event_id": "r-1",
        "camera_id": "hn-exp-gate-1",
        "captured_at": AT,
        "plate_text": "29H-123.45",
        "confidence": 0.9,
        **fields,
    }


def _enveloped(data: dict[str, Any], event_id: str = "env-1") -> bytes:
    envelope = {
        "event_id": event_id,
        "type": "plate_read",
        "version": 1,
        "occurred_at": AT,
        "producer": "gateway",
        "data": data,
    }
    return json.dumps(envelope).encode()


def _without_event_id(**fields: Any) -> dict[str, Any]:
    body = _body(**fields)
    del body["event_id"]
    return body


def test_read_id_is_an_alias_of_event_id_and_dumps_as_event_id() -> None:
    read = decode_plate_read(json.dumps(_without_event_id(read_id="cam-7")).encode())
    assert read.event_id == "cam-7"
    dumped = json.loads(encode(read))
    assert dumped["event_id"] == "cam-7"
    assert "read_id" not in dumped
    assert decode_plate_read(encode(read)) == read


def test_event_id_wins_over_read_id_when_both_come() -> None:
    read = decode_plate_read(json.dumps(_body(read_id="other")).encode())
    assert read.event_id == "r-1"


def test_a_read_with_neither_id_is_refused_naming_event_id() -> None:
    with pytest.raises(InvalidEvent, match=r"^event_id: Field required$"):
        decode_plate_read(json.dumps(_without_event_id()).encode())


def test_read_id_inside_the_envelope_is_the_reads_id() -> None:
    read = decode_plate_read(_enveloped(_without_event_id(read_id="cam-8")))
    assert read.event_id == "cam-8"


def test_the_envelope_id_stands_in_when_the_read_has_none() -> None:
    assert decode_plate_read(_enveloped(_without_event_id())).event_id == "env-1"
    assert decode_plate_read(_enveloped(_body())).event_id == "r-1"


def test_container_numbers_are_optional_and_bounded() -> None:
    assert decode_plate_read(json.dumps(_body()).encode()).container_numbers == []
    read = decode_plate_read(json.dumps(_body(container_numbers=[" CSQU3054383 "])).encode())
    assert read.container_numbers == ["CSQU3054383"]
    with pytest.raises(InvalidEvent, match=r"^container_numbers: List should have at most 4"):
        decode_plate_read(json.dumps(_body(container_numbers=["CSQU3054383"] * 5)).encode())
    with pytest.raises(InvalidEvent, match=r"^container_numbers\.0: String should have at most 16"):
        decode_plate_read(json.dumps(_body(container_numbers=["X" * 17])).encode())


def test_plate_read_from_wire_maps_every_field() -> None:
    wire = decode_plate_read(
        json.dumps(
            _body(
                candidates=[
                    {"text": "29H-123.45", "confidence": 0.9},
                    {"text": "29H-I23.45", "confidence": 0.4},
                ],
                char_confidences=[0.9, 0.95, 0.99, 0.9, 0.9, 0.9, 0.9, 0.9],
                container_numbers=["CSQU3054383"],
            )
        ).encode()
    )
    assert plate_read_from_wire(wire) == PlateRead(
        event_id="r-1",
        camera_id="hn-exp-gate-1",
        captured_at=wire.captured_at,
        plate_text="29H-123.45",
        confidence=0.9,
        candidates=(Candidate("29H-123.45", 0.9), Candidate("29H-I23.45", 0.4)),
        char_confidences=(0.9, 0.95, 0.99, 0.9, 0.9, 0.9, 0.9, 0.9),
        container_numbers=("CSQU3054383",),
    )


def test_plate_read_from_wire_keeps_absent_char_confidences_absent() -> None:
    wire = PlateReadV1(
        event_id="r-2",
        camera_id="cam",
        captured_at=datetime(2025, 6, 1, tzinfo=UTC),
        plate_text="桂A·12345",
        confidence=0.8,
    )
    read = plate_read_from_wire(wire)
    assert read.char_confidences is None
    assert read.candidates == ()
    assert read.container_numbers == ()


@pytest.mark.parametrize("captured_at", [1796511269, "1796511269", "20261205T225534Z"])
def test_a_refused_timestamp_reason_has_no_pydantic_prefix(captured_at: object) -> None:
    # the dead letter's dlq.error read "captured_at: Value error, must be an ISO 8601 ..."
    with pytest.raises(InvalidEvent) as caught:
        decode_plate_read(json.dumps(_body(captured_at=captured_at)).encode())
    assert caught.value.reason == (
        "captured_at: must be an ISO 8601 date-time with offset, e.g. 2026-11-24T08:00:00+07:00"
    )


def test_an_envelope_without_its_data_is_told_so() -> None:
    # it was read as a bare read: "camera_id: Field required; captured_at: Field required;
    # plate_text: Field required; confidence: Field required"
    envelope = {
        "event_id": "env-1",
        "type": "plate_read",
        "version": 1,
        "occurred_at": AT,
        "producer": "gateway",
    }
    with pytest.raises(InvalidEvent) as caught:
        decode_plate_read(json.dumps(envelope).encode())
    assert caught.value.reason == "data: Field required"
