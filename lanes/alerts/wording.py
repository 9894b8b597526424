"""Times in an alert's explanation as a controller at the gate reads them: the gate's local
clock (`10:14`), the date only when it is not the alert's own local day, the zone named
once (`UTC+07:00`). The alert's machine-readable times (`raised_at`) stay UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lanes.alert_rules import AlertRules
from lanes.values import zone_name


def _local(at: datetime, utc_offset: timedelta) -> datetime:
    return at.astimezone(UTC) + utc_offset


def gate_time(at: datetime, *, day_of: datetime, rules: AlertRules) -> str:
    """`at` on the gate's clock: `17:01`, or `2025-06-02 03:00` when its local day is not
    that of `day_of` (the alert's time)."""
    local = _local(at, rules.utc_offset)
    if local.date() == _local(day_of, rules.utc_offset).date():
        return f"{local:%H:%M}"
    return f"{local:%Y-%m-%d %H:%M}"


def zone(rules: AlertRules) -> str:
    """The gate's zone as its offset from UTC: `UTC+07:00`."""
    return zone_name(rules.utc_offset)
