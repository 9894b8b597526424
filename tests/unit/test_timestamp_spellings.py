"""Date-times as other systems spell them: the two spellings a camera gateway or a customs
system really sends that are not taken get a reason saying what to send, not pydantic's
"unexpected extra characters at the end of the input".

Found by a stranger's Kafka client (2026-12-06): Java's ZonedDateTime.toString() writes
2025-07-14T11:10+07:00[Asia/Ho_Chi_Minh] (the zone's name after the offset, also RFC 9557's
form), and ISO 8601 allows an offset of hours alone (+07); both were dead-lettered with
"captured_at: Input should be a valid datetime or date, unexpected extra characters at the
end of the input". The spellings taken stay taken."""

from __future__ import annotations

import json

import pytest

from streams.codec import decode_plate_read
from streams.errors import InvalidEvent

BODY = {
    "event_id": "r-1",
    "camera_id": "hn-exp-gate-1",
    "plate_text": "29H12345",
    "confidence": 0.9,
}


def _reason(captured_at: str) -> str:
    with pytest.raises(InvalidEvent) as refused:
        decode_plate_read(json.dumps(BODY | {"captured_at": captured_at}).encode())
    return refused.value.reason


def test_a_zone_name_in_brackets_is_refused_saying_to_send_the_offset_alone() -> None:
    assert _reason("2025-07-14T11:10+07:00[Asia/Ho_Chi_Minh]") == (
        "captured_at: a zone's name in brackets ('[Asia/Ho_Chi_Minh]') is not taken: send the "
        "date-time with its offset alone, e.g. 2025-07-14T11:10+07:00 (Java: "
        "DateTimeFormatter.ISO_OFFSET_DATE_TIME, not ZonedDateTime.toString())"
    )


@pytest.mark.parametrize(
    ("sent", "offset"),
    [("2025-07-14T11:02:00+07", "+07:00"), ("2025-07-14T11:02:00.5-03", "-03:00")],
)
def test_an_offset_of_hours_alone_is_refused_saying_to_add_its_minutes(
    sent: str, offset: str
) -> None:
    assert _reason(sent) == (
        f"captured_at: the offset {offset[:3]!r} needs its minutes: {offset} "
        "(ISO 8601 with offset, e.g. 2026-11-24T08:00:00+07:00)"
    )


@pytest.mark.parametrize(
    "sent",
    [
        "2025-07-14T11:00:00+07:00",
        "2025-07-14T11:00:00+0700",
        "2025-07-14 11:00:00+07:00",
        "2025-07-14T04:00:00Z",
        "2025-07-14T04:00:00z",
        "2025-07-14T11:00+07:00",
        "2025-07-14T11:00:00.123456789+07:00",
    ],
)
def test_the_spellings_taken_stay_taken(sent: str) -> None:
    read = decode_plate_read(json.dumps(BODY | {"captured_at": sent}).encode())
    assert read.captured_at.utcoffset() is not None
