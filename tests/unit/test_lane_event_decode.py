"""Lane events are checked against the gate before they reach a board."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from services.gates.loader import default_gates
from services.workers.orchestrator import LaneEventHandler
from streams import keys
from streams.errors import InvalidEvent
from streams.metrics import EVENTS_MISKEYED

HANDLER = LaneEventHandler(
    apply=None,  # type: ignore[arg-type]  # decode touches neither database nor broker
    outbox=None,  # type: ignore[arg-type]
    gates=default_gates(),
    group_id="test",
)


def record(key: bytes | None = b"huu-nghi", **fields: Any) -> ConsumerRecord:
    body = {"event_id": "e-1", "gate_id": "huu-nghi", "at": "2026-11-23T10:00:00+07:00"} | fields
    value = json.dumps(body).encode()
    return ConsumerRecord("borderflow.lane-events", 0, 0, 0, 0, key, value, None, 8, 0, ())


def test_a_handover_at_the_yard_is_a_place_a_truck_enters() -> None:
    event = HANDLER.decode(record(kind="truck_entered", visit_id="v-1", lane_id="tan-thanh-yard"))
    assert event.lane_id == "tan-thanh-yard"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"kind": "lane_closed", "lane_id": "HN-E99"}, "lane_id: gate 'huu-nghi' has no lane"),
        ({"kind": "lane_closed", "lane_id": "tan-thanh-yard"}, "lane_id: gate 'huu-nghi' has no"),
        ({"kind": "carrier_out", "carrier_id": "AC-9"}, "carrier_id: gate 'huu-nghi' has no"),
        ({"kind": "lane_closed", "lane_id": "HN-E1", "gate_id": "x"}, "gate_id: unknown gate"),
        ({"kind": "lane_closed"}, "lane_id: required for a lane_closed event"),
        ({"kind": "lane_melted", "lane_id": "HN-E1"}, "kind: Input should be"),
    ],
)
def test_events_that_do_not_fit_the_gate_are_refused_with_the_field(
    fields: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        HANDLER.decode(record(**fields))
    assert str(caught.value).startswith(reason)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (b"HN-E1", "key: 'HN-E1' is not the gate_id; key each lane event's record by its "),
        (None, "key: the record has none; key each lane event's record by its gate_id "),
        (b"\xffhuu", "key: not UTF-8 text"),
        (b" huu-nghi", "key: ' huu-nghi' is not the gate_id"),
    ],
)
def test_an_event_not_keyed_by_its_gate_is_taken_counted_and_told(
    key: bytes | None, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A lane controller's system keying by lane, or a script sending bare JSON with no key,
    may put a gate's events on several partitions, where a lane_opened could overtake the
    lane_closed before it: the event is applied all the same (a key is the producer's
    choice, and refusing it refused every bare client's event), counted per topic, and the
    log says what to fix, at most once a minute a topic."""
    keys._warned.clear()
    counter = EVENTS_MISKEYED.labels("borderflow.lane-events", "test")
    before = counter._value.get()
    with caplog.at_level(logging.WARNING, logger="streams.keys"):
        for _ in range(3):
            event = HANDLER.decode(record(key, kind="lane_closed", lane_id="HN-E1"))
    assert event.lane_id == "HN-E1"
    assert counter._value.get() == before + 3
    (told,) = [r.getMessage() for r in caplog.records]
    assert told.startswith(f"borderflow.lane-events: record taken, but {reason}")
    assert "('huu-nghi'), so that a gate's events stay in order on one partition" in told


def test_an_event_keyed_by_its_gate_is_not_counted() -> None:
    counter = EVENTS_MISKEYED.labels("borderflow.lane-events", "test")
    before = counter._value.get()
    HANDLER.decode(record(kind="lane_closed", lane_id="HN-E1"))
    assert counter._value.get() == before
