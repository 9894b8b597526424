"""A lane decision's times on `borderflow.lane-decisions` are spelt in UTC, whatever offset
the camera's read carried: the decision sent from memory after its batch commits and the
same decision sent again from the database (outbox drain, after a crash or a broker's
restart) are the same bytes, and consumers may compare the times as text."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from lanes.model import LaneDecision, MatchOutcome, Outcome
from services.adapters.decision_outbox import to_wire
from services.db.convert import decision_values
from streams.codec import encode_enveloped

HANOI = timezone(timedelta(hours=7))


def _decision(at: datetime) -> LaneDecision:
    return LaneDecision(
        decision_id="d-1",
        visit_id="v-1",
        gate_id="huu-nghi",
        plate="29C11200",
        manifest_id="M-1",
        outcome=Outcome.ASSIGNED,
        match_outcome=MatchOutcome.MATCHED,
        lane_id="HN-E1",
        reason="r",
        decided_at=at,
        read_event_ids=("r-4",),
        expected_start_at=at,
        expected_done_at=at + timedelta(minutes=2, seconds=30),
    )


def _sent(decision: LaneDecision) -> bytes:
    wire = to_wire(decision_values(decision))
    value, _ = encode_enveloped(
        wire,
        event_id=wire.decision_id,
        type_="lane_decision",
        occurred_at=wire.decided_at,
        producer="test",
    )
    return value


def test_a_decision_on_a_read_sent_at_plus_seven_is_published_in_utc() -> None:
    # a read captured at 05:54:29+07:00 gave "decided_at": "2026-12-06T05:54:29+07:00" (and
    # the envelope's occurred_at, expected_start_at, expected_done_at so) from memory, and
    # "2026-12-05T22:54:29Z" when the outbox sent it again from the database
    local = _sent(_decision(datetime(2026, 12, 6, 5, 54, 29, tzinfo=HANOI)))
    stored = _sent(_decision(datetime(2026, 12, 5, 22, 54, 29, tzinfo=UTC)))
    assert local == stored
    event = json.loads(local)
    assert event["occurred_at"] == "2026-12-05T22:54:29Z"
    assert event["data"]["decided_at"] == "2026-12-05T22:54:29Z"
    assert event["data"]["expected_start_at"] == "2026-12-05T22:54:29Z"
    assert event["data"]["expected_done_at"] == "2026-12-05T22:56:59Z"


def test_a_decision_without_expected_times_keeps_them_null() -> None:
    review = replace(
        _decision(datetime(2026, 12, 6, 5, 0, tzinfo=HANOI)),
        outcome=Outcome.NEEDS_REVIEW,
        lane_id=None,
        expected_start_at=None,
        expected_done_at=None,
    )
    data = json.loads(_sent(review))["data"]
    assert data["decided_at"] == "2026-12-05T22:00:00Z"
    assert (data["expected_start_at"], data["expected_done_at"]) == (None, None)
