"""A plate text longer than a plate once normalised is refused at the wire, naming the field
(tests/integration/test_plate_text_grows.py sends one through the decider)."""

from __future__ import annotations

import json

import pytest

from streams.codec import decode_plate_read
from streams.errors import InvalidEvent
from streams.weigh import decode_weigh_in_motion

READ = {
    "event_id": "r-1",
    "camera_id": "hn-exp-gate-1",
    "captured_at": "2025-07-14T10:00:00+07:00",
    "plate_text": "29H-123.45",
    "confidence": 0.9,
}
WEIGHING = {
    "event_id": "w-1",
    "station_id": "wim-1",
    "gate_id": "huu-nghi",
    "captured_at": "2025-07-14T10:00:00+07:00",
    "plate_text": "29H-123.45",
    "gross_weight_kg": 30000,
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"plate_text": "\u00df" * 32}, "plate_text"),
        ({"candidates": [{"text": "\ufdfa" * 3, "confidence": 0.1}]}, "candidates.0.text"),
    ],
)
def test_a_read_whose_text_grows_past_a_plate_is_refused(
    change: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidEvent) as refused:
        decode_plate_read(json.dumps(READ | change).encode())
    assert str(refused.value).startswith(f"{field}: is "), refused.value
    assert "more than a plate's 32" in str(refused.value)


def test_a_weighing_whose_text_grows_past_a_plate_is_refused() -> None:
    with pytest.raises(InvalidEvent) as refused:
        decode_weigh_in_motion(json.dumps(WEIGHING | {"plate_text": "\u00df" * 17}).encode())
    assert str(refused.value).startswith("plate_text: is 34 characters once normalised")


def test_plates_of_32_characters_and_separators_are_taken() -> None:
    assert decode_plate_read(json.dumps(READ | {"plate_text": "A" * 32}).encode())
    assert decode_plate_read(json.dumps(READ | {"plate_text": "29H-123.45 \u00df"}).encode())
    assert decode_weigh_in_motion(json.dumps(WEIGHING).encode())
