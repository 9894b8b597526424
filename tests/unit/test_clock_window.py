"""The door's check of a camera's clock (issue 18): a read dated too far from the time its
record was sent is refused with a reason that says by how much; decisions never use it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.workers.decider import ClockWindow

SENT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SENT_MS = int(SENT.timestamp() * 1000)


def test_ahead_beyond_the_window_is_refused_with_how_far() -> None:
    window = ClockWindow()
    assert window.refuses(SENT + timedelta(minutes=4), SENT_MS) is None
    reason = window.refuses(SENT.replace(year=2036), SENT_MS)
    assert reason is not None and reason.startswith("clock-skew: captured_at 2036-11-23")
    assert "3,653 days ahead" in reason and "allowed: 300 s" in reason


def test_behind_is_accepted_unless_a_limit_is_set() -> None:
    old = SENT - timedelta(days=400)
    assert ClockWindow().refuses(old, SENT_MS) is None
    reason = ClockWindow.of(300, 86_400).refuses(old, SENT_MS)
    assert reason is not None and "400 days behind" in reason
    assert ClockWindow.of(300, 86_400).refuses(SENT - timedelta(hours=23), SENT_MS) is None


def test_a_record_without_a_timestamp_is_not_checked() -> None:
    assert ClockWindow().refuses(SENT.replace(year=2036), None) is None
    assert ClockWindow().refuses(SENT.replace(year=2036), -1) is None


def test_a_timestamp_past_year_9999_is_a_time_far_ahead_not_a_crash() -> None:
    """A producer that sends microseconds (or nanoseconds) as the record's milliseconds: its
    timestamp is past year 9999, which stopped the decider and the call-forward worker
    (ValueError: year 58898 is out of range) on every restart. The read is behind it."""
    micros = SENT_MS * 1000
    assert ClockWindow().refuses(SENT, micros) is None
    assert ClockWindow().refuses(SENT, SENT_MS * 1_000_000) is None
    reason = ClockWindow.of(300, 86_400).refuses(SENT, micros)
    assert reason is not None and reason.startswith("clock-skew: captured_at 2026-11-23")
    assert f"record timestamp {micros} ms, past year 9999" in reason
