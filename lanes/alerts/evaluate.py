"""Every rule over one set of observations, up to `now` (event time)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from lanes.alert_rules import AlertRules
from lanes.alerts.bookings import bursts, no_show_rates, rebook_jumps
from lanes.alerts.cargo import customs_pending, late_amendments, overweight, swaps
from lanes.alerts.model import Alert, Observations
from lanes.alerts.passes import Declarations, Exits, Trucks, passes
from lanes.alerts.plates import clones, lost_trucks


def evaluate(
    observations: Observations, rules: AlertRules | None = None, *, now: datetime
) -> tuple[Alert, ...]:
    """The alerts `observations` raise by `now`: what happened after `now` is not looked at;
    one alert per (rule, subject), the first raised; sorted by (raised_at, rule, subject)."""
    rules = rules or AlertRules()
    o = observations
    sightings = [s for s in o.sightings if s.at <= now]
    versions = Declarations([v for v in o.manifests if v.received_at <= now])
    weighings = [w for w in o.weighings if w.at <= now]
    changes = [c for c in o.bookings if c.at <= now]
    found = passes(sightings, rules)
    exit_reads = Exits(sightings)
    trucks = Trucks(found, rules.expected_transit + rules.transit_margin)
    raised = [
        *clones(found, exit_reads, rules, versions),
        *lost_trucks(found, exit_reads, rules, now=now, trucks=trucks),
        *swaps(found, versions),
        *late_amendments(found, versions, rules),
        *customs_pending(found, versions, rules),
        *overweight(weighings, versions, rules),
        *no_show_rates(changes, rules),
        *rebook_jumps(changes, rules),
        *bursts(changes, rules),
    ]
    return first_alerts(raised)


def lookback(rules: AlertRules) -> timedelta:
    """How far back the sightings a rule may need reach: the longest of a clone's return
    time and a lost truck's allowance, plus two visit windows (a pass spans one)."""
    return max(rules.min_return, rules.expected_transit + rules.transit_margin) + (
        2 * rules.visit_window
    )


def judged_at(since: datetime, until: datetime, rules: AlertRules) -> list[datetime]:
    """The event times the reads from `since` to `until` are judged at: `until`, and before
    it one every `rules.visit_window` after `since`. The rules look back from the time they
    judge at (`lookback`: the longest wait of a rule plus two
    visit windows), so a stretch judged every visit window is seen whole; a stretch of
    hours (a decider taking a backlog, a replay in large batches) judged at its end only
    would never judge its older reads. A stretch within one window, as when the decider
    keeps up, is judged at `until` alone."""
    step = max(rules.visit_window, timedelta(minutes=1))
    times = []
    at = since + step
    while at < until:
        times.append(at)
        at += step
    return [*times, until]


def first_alerts(raised: Iterable[Alert]) -> tuple[Alert, ...]:
    """One alert per (rule, subject), the first raised; sorted by (raised_at, rule,
    subject)."""
    first: dict[tuple[str, str], Alert] = {}
    for alert in sorted(raised, key=lambda a: (a.raised_at, a.rule, a.subject, a.evidence)):
        first.setdefault((alert.rule, alert.subject), alert)
    return tuple(sorted(first.values(), key=lambda a: (a.raised_at, a.rule, a.subject)))
