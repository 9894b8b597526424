"""JSON log lines name what they are about: the request id inside a request, and for a
consumed record its coordinates and event id (bare or enveloped JSON, or none for bytes
that are not JSON)."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

from services.runtime.logs import REQUEST_ID, JsonFormatter, RequestIdFilter
from streams.log_fields import event_log_fields


def _record(value: bytes | None) -> SimpleNamespace:
    return SimpleNamespace(topic="borderflow.plate-reads", partition=4, offset=17, value=value)


def test_event_fields_from_bare_enveloped_and_undecodable_records() -> None:
    bare = event_log_fields(_record(b'{"event_id": "r-1", "camera_id": "c"}'), group_id="g")
    assert bare == {
        "topic": "borderflow.plate-reads",
        "partition": 4,
        "offset": 17,
        "group": "g",
        "event_id": "r-1",
    }
    legacy = event_log_fields(_record(b'{"read_id": "r-2"}'), group_id="g")
    assert legacy["event_id"] == "r-2"
    enveloped = event_log_fields(
        _record(b'{"type": "plate_read", "data": {"event_id": "r-3"}}'), group_id="g"
    )
    assert enveloped["event_id"] == "r-3"
    for junk in (b"\xff\xfe", b"{not json", b"[1, 2]", None, b'{"event_id": 7}'):
        assert event_log_fields(_record(junk), group_id="g")["event_id"] is None


def test_json_lines_carry_the_request_id_and_the_event_id() -> None:
    logger = logging.getLogger("test.deploy.logs")
    record = logger.makeRecord(
        logger.name,
        logging.WARNING,
        __file__,
        1,
        "dead-lettering %s",
        ("x",),
        None,
        extra=event_log_fields(_record(b'{"event_id": "r-9"}'), group_id="g"),
    )
    token = REQUEST_ID.set("req-42")
    try:
        RequestIdFilter().filter(record)
    finally:
        REQUEST_ID.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "dead-lettering x"
    assert line["request_id"] == "req-42"
    assert line["event_id"] == "r-9"
    assert (line["topic"], line["partition"], line["offset"]) == ("borderflow.plate-reads", 4, 17)
