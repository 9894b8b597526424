"""Risk alerts (issue 22): pure rules over what the gate saw, event time only.

`evaluate(observations, rules, now=...)` gives every alert the observations raise up to
`now`, one per (rule, subject), sorted; the same observations and `now` give the same
alerts, in any input order, so a replay raises exactly the alerts the live run raised.
"""

from lanes.alert_rules import AlertRules
from lanes.alerts.evaluate import evaluate
from lanes.alerts.model import (
    RULES,
    Alert,
    BookingChange,
    BookingKind,
    ManifestVersion,
    Observations,
    Severity,
    Sighting,
    WeighIn,
)

__all__ = [
    "RULES",
    "Alert",
    "AlertRules",
    "BookingChange",
    "BookingKind",
    "ManifestVersion",
    "Observations",
    "Severity",
    "Sighting",
    "WeighIn",
    "evaluate",
]
