"""The two clocks, and the one place the servers' clock is read.

- **Event time** is the gate's clock, carried by the events themselves (a read's
  `captured_at`, a lane event's `at`, a booking request's intake time once it is an event).
  Everything that decides, and everything a replay reproduces, uses it, passed explicitly
  (`now=`, `at=`): visits, matching windows, lanes, bookings' lateness and no-shows, the
  control room's "now" (`gate_clock`: the newest read at the gate).
- **The wall clock** is the servers' clock, for operations only: audit entries, sessions and
  their expiry, rate limits, `published_at`, `received_at`, `recorded_at`, a dead letter's
  `failed_at`, the time a firm's booking request or a manifest arrives over HTTP (which then
  travels as that event's time). Nothing compares a wall-clock time with an event time.

`wall_clock()` is the only reader of the wall clock in `lanes/`, `streams/` and `services/`
(tests/unit/test_clocks.py checks the source), so a test can move it years away and check
that no decision moves with it."""

from __future__ import annotations

from datetime import UTC, datetime


def wall_clock() -> datetime:
    """The servers' clock (UTC): operations only, never a decision."""
    return datetime.now(UTC)
