"""Every topic that takes JSON refuses the same fault with the same words
(streams/jsonbody.py): until 2026-12-06 five decoders did it each their own way, and a
plate read sent with a UTF-8 byte-order mark (as Windows tools write text) was refused
while the same manifest was taken."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from streams.calls import decode_call
from streams.codec import decode_booking_event, decode_plate_read
from streams.errors import InvalidEvent
from streams.frames import decode_frame
from streams.lane_events import decode_lane_event
from streams.manifests import decode_manifest
from streams.weigh import decode_weigh_in_motion
from streams.xborder_local import decode_local_event

DECODERS: dict[str, Callable[[bytes | None], Any]] = {
    "a plate read": decode_plate_read,
    "a booking event": decode_booking_event,
    "a lane event": decode_lane_event,
    "a manifest": decode_manifest,
    "a weighing": decode_weigh_in_motion,
    "a call event": decode_call,
    "a crossing event": decode_local_event,
    "a camera frame": decode_frame,
}

READ = {
    "event_id": "r-1",
    "camera_id": "hn-exp-gate-1",
    "captured_at": "2026-11-23T10:00:00+07:00",
    "plate_text": "29H12345",
    "confidence": 0.9,
}


@pytest.mark.parametrize("what", sorted(DECODERS))
@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "empty message value (tombstone): {what} needs a JSON body"),
        (b"", "empty message value: {what} needs a JSON body"),
        (b"\xff\xfe{}", "value is not UTF-8 text (byte 0: b'\\xff'): send {what} as UTF-8 JSON"),
        (b'{"a": ', "invalid JSON: Expecting value at line 1 column 7"),
        (b"[1, 2]", "expected a JSON object, got an array"),
        (b'"text"', "expected a JSON object, got a string"),
        (b"null", "expected a JSON object, got null"),
        (b"[" * 100_000, "invalid JSON: nested too deeply"),
        (b'{"a": "x\\u0000y"}', "a: "),
        # a member twice: json.loads kept the last silently (found by a stranger's Kafka
        # client, 2026-12-06); nested objects too
        (b'{"a": 1, "b": 2, "a": 3}', "member 'a' given 2 times in one object"),
        # named by its path, as the HTTP API names it (was 'c', 2026-12-06)
        (b'{"a": {"c": 1, "c": 1}}', "member 'a.c' given 2 times in one object"),
        (b'{"b": [{"a": 1}, {"a": 2, "a": 3, "a": 4}]}', "member 'b.1.a' given 3 times"),
        # Kafka Connect's JsonConverter with its default schemas.enable=true: the manifests
        # were refused listing every field as missing, the plate reads without a word of it
        (
            b'{"schema": {"type": "struct", "fields": []}, "payload": {"a": 1}}',
            "a Kafka Connect JSON envelope (schema and payload), not {what}: send the event "
            "itself (value.converter.schemas.enable=false)",
        ),
    ],
)
def test_the_same_fault_is_refused_in_the_same_words_on_every_topic(
    what: str, value: bytes | None, reason: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        DECODERS[what](value)
    assert caught.value.reason.startswith(reason.format(what=what)), caught.value.reason


def test_a_byte_order_mark_before_a_plate_read_is_taken_as_before_a_manifest() -> None:
    body = json.dumps(READ).encode()
    assert decode_plate_read(b"\xef\xbb\xbf" + body) == decode_plate_read(body)
