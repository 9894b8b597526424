"""The risk-alert rules' parameters, a gate's setting (`Gate.alert_rules`). Outside the
`lanes.alerts` package, so that the model can name it without depending on the rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class AlertRules:
    """The rules' parameters (defaults: ASSUMPTIONS, docs/alerts.md; a gate file's `[alerts]`
    table sets them per gate, services/gates/loader.py)."""

    # reads of one plate closer than this are one pass (the gate's visit window)
    visit_window: timedelta = timedelta(minutes=10)
    # a pass needs this many reads to count: one stray misread is not a truck
    min_reads: int = 2
    # the same plate at another gate or direction sooner than this: the road does not allow it
    min_return: timedelta = timedelta(hours=2)
    # entered and not seen at an exit camera within this plus the margin: lost or stopped
    expected_transit: timedelta = timedelta(minutes=60)
    transit_margin: timedelta = timedelta(minutes=30)
    # plates, trailer, containers or cargo amended this long before arrival, or less
    amend_window: timedelta = timedelta(minutes=60)
    # weighed above declared * (1 + share) + kg
    weight_tolerance: float = 0.15
    weight_tolerance_kg: float = 500.0
    # a firm's no-show share of its settled bookings, once it has this many
    no_show_min_bookings: int = 20
    no_show_rate: float = 0.35
    # a booking cancelled and the same manifest booked into an earlier slot within this
    rebook_window: timedelta = timedelta(minutes=10)
    # this many bookings created by one key within the window
    burst_count: int = 20
    burst_window: timedelta = timedelta(seconds=60)
    # the gate's local time (its gate file's `utc_offset`), for the times the explanations
    # name (lanes/alerts/wording.py)
    utc_offset: timedelta = timedelta(0)
