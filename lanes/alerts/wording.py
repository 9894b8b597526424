"""Times in an alert's explanation as a controller at the gate reads them: the gate's local
clock (`10:14`), the date only when it is not the alert's own local day, the zone named
once (`UTC+07:00`). The alert's machine-readable times (`raised_at`) stay UTC datetimes."""

from __future__ import annotations

from datetime import datetime

from lanes.alert_rules import AlertRules
from lanes.values import gate_clock, zone_name


def gate_time(at: datetime, *, day_of: datetime, rules: AlertRules) -> str:
    """`at` on the gate's clock: `17:01`, or `2025-06-02 03:00` when its local day is not
    that of `day_of` (the alert's time)."""
    return gate_clock(at, rules.utc_offset, day_of=day_of)


def zone(rules: AlertRules) -> str:
    """The gate's zone as its offset from UTC: `UTC+07:00`."""
    return zone_name(rules.utc_offset)
