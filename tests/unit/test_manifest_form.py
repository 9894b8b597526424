"""The manifest intake form: every refusal names the field and says why; a valid form is
stored normalised, and its JSON form is what the history table keeps."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from lanes.channels import channel_of
from lanes.model import CustomsChannel, CustomsStatus, Direction, Manifest
from lanes.similarity import index_keys
from services.db.convert import manifest_payload
from services.db.manifests import plate_key_rows
from streams.errors import InvalidEvent
from streams.manifests import decode_manifest, manifest_to_wire

FORM: dict[str, Any] = {
    "manifest_id": "MF-2026-0001",
    "firm_id": "firm-01",
    "direction": "export",
    "tractor_plate": "29H-123.45",
    "trailer_plate": "29R-012.34",
    "containers": ["csqu 305438-3"],
    "cargo": {"description": "dragon fruit", "hs_codes": ["0810.90"], "gross_weight_kg": 18500},
    "perishable": True,
    "customs_status": "cleared",
    "window_start": "2026-11-23T06:00:00+07:00",
    "window_end": "2026-11-23T18:00:00+07:00",
}


def _decode(**changes: Any) -> Manifest:
    form = {k: v for k, v in (FORM | changes).items() if v is not ...}
    return decode_manifest(json.dumps(form)).to_domain()


def _refusal(**changes: Any) -> str:
    with pytest.raises(InvalidEvent) as caught:
        _decode(**changes)
    return caught.value.reason


def test_a_valid_form_is_normalised_into_the_domain_manifest() -> None:
    m = _decode()
    assert m.tractor_plate == "29H12345"
    assert m.trailer_plate == "29R01234"
    assert m.containers == ("CSQU3054383",)
    assert m.hs_codes == ("0810.90",)
    assert m.gross_weight_kg == 18500
    assert m.direction is Direction.EXPORT
    assert m.customs_status is CustomsStatus.CLEARED
    assert m.window_start == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)


def test_a_chinese_tractor_and_trailer_are_accepted() -> None:
    m = _decode(tractor_plate="桂A·12345", trailer_plate="桂A·1234挂", direction="import")
    assert (m.tractor_plate, m.trailer_plate) == ("桂A12345", "桂A1234挂")


def test_a_plate_written_with_a_vietnamese_d_is_stored_with_a_d() -> None:
    """Vietnamese customs software writes the series LD with a stroke: `29LĐ-123.45` was
    refused as neither a Vietnamese nor a Chinese plate (manifest dead-lettered, truck to
    review) until 2026-12-06."""
    m = _decode(tractor_plate="29LĐ-123.45", trailer_plate="29Rđ-012.34")
    assert (m.tractor_plate, m.trailer_plate) == ("29LD12345", "29RD01234")


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"tractor_plate": "ABC-99"}, "tractor_plate", "neither a Vietnamese nor a Chinese"),
        ({"tractor_plate": "29R-012.34"}, "tractor_plate", "a trailer's plate"),
        ({"trailer_plate": "29H-123.46"}, "trailer_plate", "a motor vehicle's plate"),
        ({"containers": ["CSQU3054384"]}, "containers", "check digit is 4, ISO 6346 gives 3"),
        (
            {"window_end": "2026-11-23T05:00:00+07:00"},
            "window_end",
            "must be after window_start",
        ),
        ({"window_end": "2026-12-23T05:00:00+07:00"}, "window_end", "at most 7 days"),
        ({"direction": "sideways"}, "direction", "'export' or 'import'"),
        ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
        ({"firm_id": ...}, "firm_id", "required"),
        ({"window_start": "2026-11-23T06:00:00"}, "window_start", "timezone"),
        ({"cargo": {"gross_weight_kg": -1}}, "cargo.gross_weight_kg", "greater than 0"),
        ({"manifest_id": "MF 1"}, "manifest_id", "letters (A-Z, a-z), digits and . _ : - only"),
    ],
)
def test_each_refusal_names_the_field_and_the_reason(
    changes: dict[str, Any], field: str, reason: str
) -> None:
    message = _refusal(**changes)
    assert message.startswith(f"{field}: "), message
    assert reason in message, message
    assert "https://" not in message  # no pydantic URLs


def test_several_faults_are_all_named() -> None:
    message = _refusal(tractor_plate="nope", direction="up")
    assert "tractor_plate: " in message
    assert "direction: " in message


def test_malformed_json_is_refused_with_the_reason() -> None:
    with pytest.raises(InvalidEvent, match="invalid JSON"):
        decode_manifest(b'{"manifest_id": ')
    with pytest.raises(InvalidEvent, match="expected a JSON object"):
        decode_manifest(b"[1, 2]")


def test_the_history_payload_is_the_intake_forms_json() -> None:
    m = _decode()
    assert manifest_payload(m) == manifest_to_wire(m).model_dump(mode="json")


def test_a_seeded_manifest_without_a_window_still_has_a_payload() -> None:
    m = Manifest("MF-9", "firm-01", Direction.IMPORT, "12C12345")
    payload = manifest_payload(m)
    assert payload["window_start"] is None
    assert payload["cargo"] == {"description": "", "hs_codes": [], "gross_weight_kg": None}


def test_plate_keys_are_the_index_keys_of_the_tractor_and_the_trailer() -> None:
    rows = plate_key_rows(_decode())
    assert {r["key"] for r in rows if r["role"] == "tractor"} == index_keys("29H12345")
    assert {r["key"] for r in rows if r["role"] == "trailer"} == index_keys("29R01234")
    assert {r["manifest_id"] for r in rows} == {"MF-2026-0001"}
    no_trailer = plate_key_rows(Manifest("MF-9", "f", Direction.IMPORT, "12C12345"))
    assert {r["role"] for r in no_trailer} == {"tractor"}


# --- the customs channel -------------------------------------------------------------------


def test_the_customs_channel_is_optional_and_kept() -> None:
    assert _decode().customs_channel is None
    m = _decode(customs_channel="yellow")
    assert m.customs_channel is CustomsChannel.YELLOW
    assert manifest_to_wire(m).to_domain() == m
    assert manifest_payload(m) == manifest_to_wire(m).model_dump(mode="json")
    assert manifest_payload(m)["customs_channel"] == "yellow"


@pytest.mark.parametrize(
    ("status", "channel"),
    [
        ("pending", "red"),
        ("pending", "green"),
        ("cleared", "red"),
        ("inspect", "yellow"),
        ("inspect", "red"),
    ],
)
def test_any_channel_goes_with_any_status_but_one(status: str, channel: str) -> None:
    m = _decode(customs_status=status, customs_channel=channel)
    assert (m.customs_status, m.customs_channel) == (CustomsStatus(status), CustomsChannel(channel))


def test_an_inspection_on_the_green_channel_is_refused() -> None:
    message = _refusal(customs_status="inspect", customs_channel="green")
    assert message == (
        "customs_channel: 'green' contradicts customs_status 'inspect': a truck to inspect is "
        "on the yellow (scan) or red (inspection) channel"
    )


def test_an_unknown_channel_is_refused() -> None:
    message = _refusal(customs_channel="blue")
    assert message == "customs_channel: Input should be 'green', 'yellow' or 'red'"


@pytest.mark.parametrize(
    ("status", "channel", "expected"),
    [
        (CustomsStatus.CLEARED, None, CustomsChannel.GREEN),
        (CustomsStatus.INSPECT, None, CustomsChannel.RED),
        (CustomsStatus.PENDING, None, None),
        (CustomsStatus.CLEARED, CustomsChannel.YELLOW, CustomsChannel.YELLOW),
        (CustomsStatus.INSPECT, CustomsChannel.YELLOW, CustomsChannel.YELLOW),
        (CustomsStatus.PENDING, CustomsChannel.RED, CustomsChannel.RED),
    ],
)
def test_the_channel_of_a_manifest_is_its_own_else_what_its_status_implies(
    status: CustomsStatus, channel: CustomsChannel | None, expected: CustomsChannel | None
) -> None:
    m = Manifest("MF-9", "firm-01", Direction.EXPORT, "29H12345", customs_status=status)
    assert channel_of(replace(m, customs_channel=channel)) is expected


def test_a_value_that_is_not_utf8_is_refused_as_such() -> None:
    # bytes that start as UTF-16's byte-order mark were decoded as UTF-16 and refused with
    # "'utf-16-le' codec can't decode byte 0x38 ...", and a whole UTF-16 manifest was taken
    with pytest.raises(InvalidEvent) as caught:
        decode_manifest(b"\xff\xfe not utf8")
    assert caught.value.reason == (
        "value is not UTF-8 text (byte 0: b'\\xff'): send a manifest as UTF-8 JSON"
    )
    with pytest.raises(InvalidEvent, match="not UTF-8"):
        decode_manifest(json.dumps(FORM).encode("utf-16"))
    with pytest.raises(InvalidEvent, match="not UTF-8"):
        decode_manifest(json.dumps(FORM).encode("utf-32"))


def test_utf8_with_or_without_a_byte_order_mark_is_read() -> None:
    text = json.dumps(FORM, ensure_ascii=False)
    assert decode_manifest(text.encode()) == decode_manifest(b"\xef\xbb\xbf" + text.encode())


@pytest.mark.parametrize(
    ("value", "kind"),
    [(b"null", "null"), (b"[1, 2]", "an array"), (b'"x"', "a string"), (b"3", "a number")],
)
def test_a_value_that_is_not_an_object_is_named_as_json_names_it(value: bytes, kind: str) -> None:
    # it said "got NoneType", "got list": Python's names
    with pytest.raises(InvalidEvent) as caught:
        decode_manifest(value)
    assert caught.value.reason == f"expected a JSON object, got {kind}"
