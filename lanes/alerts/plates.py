"""Rules on where a plate was seen: a cloned plate, a lost or stopped truck."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise

from lanes.alert_rules import AlertRules
from lanes.alerts.model import Alert, make_alert
from lanes.alerts.passes import Declarations, Exits, Pass, Trucks
from lanes.alerts.wording import gate_time, zone
from lanes.evidence import fits_format


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min"


def clones(
    found: Sequence[Pass], exit_reads: Exits, rules: AlertRules, versions: Declarations
) -> list[Alert]:
    """A plate in two passes one truck cannot make: at another gate or in the other
    direction sooner than `min_return`, or inbound twice at one gate and direction with no
    exit read of the plate between (at a gate whose exit cameras are read at all). Only a
    plate that names one truck: one that fits a plate format or that a manifest declares.
    A text that fits none (a row read alone, `12C`) is a misread that many trucks' plates
    give (the matcher prices it so: `lanes.evidence`), so two passes under it may well be
    two trucks."""
    by_plate: dict[str, list[Pass]] = {}
    for p in found:
        if fits_format(p.plate) or versions.declares(p.plate):
            by_plate.setdefault(p.plate, []).append(p)
    alerts = []
    for plate, seen in sorted(by_plate.items()):
        for a, b in pairwise(seen):
            gap = b.first_at - a.last_at
            same_place = (a.gate_id, a.direction) == (b.gate_id, b.direction)
            if same_place:
                if not exit_reads.read_at(a.gate_id):
                    continue
                if exit_reads.between(a.texts, a.last_at, b.first_at):
                    continue
                why = (
                    f"plate {plate} came in twice at {a.gate_id} ({a.direction}) without "
                    f"leaving: {gate_time(a.first_at, day_of=b.first_at, rules=rules)} and "
                    f"{gate_time(b.first_at, day_of=b.first_at, rules=rules)} ({zone(rules)}), "
                    f"no exit read between"
                )
            elif gap < rules.min_return:
                why = (
                    f"plate {plate} at {a.gate_id} ({a.direction}) at "
                    f"{gate_time(a.last_at, day_of=b.first_at, rules=rules)} ({zone(rules)}) "
                    f"and at {b.gate_id} ({b.direction}) {_minutes(gap.total_seconds())} later; "
                    f"the road needs at least {_minutes(rules.min_return.total_seconds())}"
                )
            else:
                continue
            alerts.append(
                make_alert(
                    "cloned_plate",
                    f"plate:{plate}",
                    gate_id=b.gate_id,
                    raised_at=b.first_at,
                    explanation=why,
                    evidence=a.event_ids + b.event_ids,
                )
            )
    return alerts


def lost_trucks(
    found: Sequence[Pass], exit_reads: Exits, rules: AlertRules, *, now: datetime, trucks: Trucks
) -> list[Alert]:
    """A pass with no exit read showing its plate (or a candidate of its reads) within
    `expected_transit + transit_margin` of its last inbound read, once `now` is past that;
    only at a gate whose exit cameras are read at all (else every truck would be lost).
    An exit read that may be its plate misread and may be no other truck open then is its
    exit (`Exits.misread`; `trucks`, every pass of the window). A pass whose reads a camera
    took together with another pass of a plate near its own, which did exit, is that
    truck's reads misread alike (`Trucks.twin`), not a lost truck."""
    allowed = rules.expected_transit + rules.transit_margin
    alerts = []
    for p in found:
        due = p.last_at + allowed
        if now < due or not exit_reads.read_at(p.gate_id):
            continue
        if exit_reads.between(p.texts, p.first_at, due):
            continue
        if exit_reads.misread(p, due, trucks):
            continue
        if trucks.twin(p, exit_reads) is not None:
            continue
        alerts.append(
            make_alert(
                "lost_truck",
                f"plate:{p.plate}",
                gate_id=p.gate_id,
                raised_at=due,
                explanation=(
                    f"plate {p.plate} entered {p.gate_id} ({p.direction}) at "
                    f"{gate_time(p.last_at, day_of=due, rules=rules)} ({zone(rules)}) and no "
                    f"exit camera has read it in "
                    f"{_minutes(allowed.total_seconds())} (expected "
                    f"{_minutes(rules.expected_transit.total_seconds())} plus "
                    f"{_minutes(rules.transit_margin.total_seconds())} margin)"
                ),
                evidence=p.event_ids,
            )
        )
    return alerts
