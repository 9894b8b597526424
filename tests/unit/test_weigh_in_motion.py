"""The weigh-in-motion wire format (streams/weigh.py, issue 22): strict numbers and times."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from streams.errors import InvalidEvent
from streams.weigh import decode_weigh_in_motion

GOOD = {
    "event_id": "w-1",
    "station_id": "hn-wim-1",
    "gate_id": "huu-nghi",
    "captured_at": "2025-06-02T08:00:00+07:00",
    "plate_text": "29H-123.45",
    "plate_candidates": ["29H-123.46"],
    "gross_weight_kg": 41_000,
}


def test_a_weighing_decodes_bare_or_enveloped_into_the_domain() -> None:
    bare = decode_weigh_in_motion(json.dumps(GOOD).encode())
    envelope = {
        "event_id": "w-1",
        "type": "weigh_in_motion",
        "version": 1,
        "occurred_at": GOOD["captured_at"],
        "producer": "wim",
        "data": GOOD,
    }
    assert decode_weigh_in_motion(json.dumps(envelope).encode()) == bare
    weighed = bare.to_domain()
    assert (weighed.plate, weighed.alternatives) == ("29H12345", ("29H12346",))
    assert weighed.gross_weight_kg == 41_000.0
    assert weighed.at == datetime(2025, 6, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("gross_weight_kg", "41000", "gross_weight_kg"),
        ("gross_weight_kg", True, "gross_weight_kg"),
        ("gross_weight_kg", -5, "gross_weight_kg"),
        ("captured_at", 1748822400, "captured_at"),
        ("captured_at", "2025-06-02T08:00:00", "captured_at"),
        ("plate_text", "29H\u0000", "plate_text"),
        ("axles", 5, "axles"),
    ],
)
def test_loose_input_is_refused_with_the_field_named(field: str, value: object, says: str) -> None:
    with pytest.raises(InvalidEvent, match=says):
        decode_weigh_in_motion(json.dumps({**GOOD, field: value}).encode())
