"""Rules on what a truck carries against its declaration: a swapped trailer or container,
containers declared but none read, a manifest amended just before arrival, overweight."""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from datetime import datetime
from itertools import pairwise

from lanes.alert_rules import AlertRules
from lanes.alerts.model import Alert, WeighIn, make_alert
from lanes.alerts.passes import Declarations, Pass
from lanes.alerts.wording import gate_time, zone
from lanes.model import CustomsStatus, Manifest


def swaps(
    found: Sequence[Pass], versions: Declarations, *, reading: Set[str] | None = None
) -> list[Alert]:
    """At the OCR portal (gate-in): a trailer plate or container number read that the
    truck's manifest does not declare (`swap`), or containers declared and none read
    (`containers_unread`, only at a gate whose portals read containers at all: a gate that
    sends no container numbers would otherwise flag every container truck). `reading`:
    the gates whose portals read containers, when `found` is not every pass (by default,
    those `found` shows)."""
    alerts = []
    if reading is None:
        reading = portal_containers(found)
    for p in found:
        portal = p.at_portal()
        declared = versions.as_of(p.plate, p.first_at)
        if not portal or declared is None:
            continue
        manifest = declared[0]
        subject = f"manifest:{manifest.manifest_id}"
        evidence = tuple(s.event_id for s in portal)
        containers = sorted({c for s in portal for c in s.containers})
        trailers = sorted({t for s in portal for t in s.trailer_plates})
        wrong = [c for c in containers if c not in manifest.containers]
        if manifest.trailer_plate and trailers and manifest.trailer_plate not in trailers:
            wrong.append(f"trailer {', '.join(trailers)}")
        if wrong:
            why = (
                f"{p.plate} at {p.gate_id}: read {', '.join(wrong)} at the portal, not declared "
                f"in manifest {manifest.manifest_id} ({_declared(manifest)})"
            )
            alerts.append(_alert("swap", subject, p, why, evidence, at=portal[-1].at))
        elif manifest.containers and not containers and p.gate_id in reading:
            why = (
                f"{p.plate} at {p.gate_id}: manifest {manifest.manifest_id} declares "
                f"{', '.join(manifest.containers)} and the portal read no container "
                f"({len(portal)} read(s))"
            )
            alerts.append(_alert("containers_unread", subject, p, why, evidence, at=portal[-1].at))
    return alerts


def portal_containers(found: Iterable[Pass]) -> set[str]:
    """The gates where a pass of `found` had a container number read at the portal."""
    return {s.gate_id for p in found for s in p.at_portal() if s.containers}


def late_amendments(
    found: Sequence[Pass], versions: Declarations, rules: AlertRules
) -> list[Alert]:
    """A manifest whose plates, containers or cargo changed within `amend_window` before its
    truck's arrival (the first read of the pass)."""
    alerts = []
    for p in found:
        declared = versions.as_of(p.plate, p.first_at)
        if declared is None:
            continue
        manifest, history = declared
        late = [
            (old, new)
            for old, new in pairwise(history)
            if p.first_at - new.received_at <= rules.amend_window
            and _changes(old.manifest, new.manifest)
        ]
        if not late:
            continue
        old, new = late[-1]
        ahead = (p.first_at - new.received_at).total_seconds() / 60
        why = (
            f"manifest {manifest.manifest_id} v{new.version} changed "
            f"{', '.join(_changes(old.manifest, new.manifest))} {ahead:.0f} min before "
            f"{p.plate} arrived at {p.gate_id} (window {rules.amend_window})"
        )
        evidence = (
            f"{manifest.manifest_id}@v{old.version}",
            f"{manifest.manifest_id}@v{new.version}",
            p.event_ids[0],
        )
        alerts.append(
            _alert("late_amendment", f"manifest:{manifest.manifest_id}", p, why, evidence)
        )
    return alerts


def customs_pending(
    found: Sequence[Pass], versions: Declarations, rules: AlertRules
) -> list[Alert]:
    """A truck that arrived on a manifest not pending at customs (cleared or to inspect:
    decided on it), whose manifest's newest version, received after the arrival, is pending
    again: the truck's decision no longer stands (a truck arriving on a pending manifest is
    sent to review by the matcher; this is the same rule for one that turned pending after).
    Raised when the pending version was received."""
    alerts = []
    for p in found:
        declared = versions.as_of(p.plate, p.first_at)
        if declared is None or declared[0].customs_status is CustomsStatus.PENDING:
            continue
        manifest = declared[0]
        newest = versions.history(manifest.manifest_id)[-1]
        if newest.manifest.customs_status is not CustomsStatus.PENDING:
            continue
        if newest.received_at < p.first_at:
            continue  # pending at arrival (the version as of then says otherwise: not ours)
        # (received at the events' clock of the arrival itself: after its read was decided)
        at = newest.received_at
        why = (
            f"manifest {manifest.manifest_id} v{newest.version} turned customs status back to "
            f"pending at {gate_time(at, day_of=at, rules=rules)} ({zone(rules)}), after "
            f"{p.plate} arrived at {p.gate_id} at "
            f"{gate_time(p.first_at, day_of=at, rules=rules)} with it "
            f"{manifest.customs_status.value}: its decision no longer stands"
        )
        evidence = (f"{manifest.manifest_id}@v{newest.version}", p.event_ids[0])
        alerts.append(
            _alert("customs_pending", f"manifest:{manifest.manifest_id}", p, why, evidence, at=at)
        )
    return alerts


def overweight(
    weighings: Sequence[WeighIn], versions: Declarations, rules: AlertRules
) -> list[Alert]:
    """A weigh-in-motion gross weight above the declared one by more than the tolerance."""
    alerts = []
    for w in sorted(weighings, key=lambda w: (w.at, w.event_id)):
        declared = None
        for plate in (w.plate, *w.alternatives):
            declared = versions.as_of(plate, w.at)
            if declared is not None:
                break
        if declared is None or declared[0].gross_weight_kg is None:
            continue
        manifest, kg = declared[0], declared[0].gross_weight_kg
        if w.gross_weight_kg <= kg * (1 + rules.weight_tolerance) + rules.weight_tolerance_kg:
            continue
        over = w.gross_weight_kg / kg - 1
        alerts.append(
            make_alert(
                "overweight",
                f"manifest:{manifest.manifest_id}",
                gate_id=w.gate_id,
                raised_at=w.at,
                explanation=(
                    f"{w.plate} weighed {w.gross_weight_kg:,.0f} kg at {w.station_id}, "
                    f"{over:.0%} over the {kg:,.0f} kg declared in "
                    f"{manifest.manifest_id} (tolerance {rules.weight_tolerance:.0%} + "
                    f"{rules.weight_tolerance_kg:,.0f} kg)"
                ),
                evidence=(w.event_id, manifest.manifest_id),
            )
        )
    return alerts


def _alert(
    rule: str,
    subject: str,
    p: Pass,
    why: str,
    evidence: tuple[str, ...],
    *,
    at: datetime | None = None,
) -> Alert:
    return make_alert(
        rule,
        subject,
        gate_id=p.gate_id,
        raised_at=p.first_at if at is None else at,
        explanation=why,
        evidence=evidence,
    )


def _declared(m: Manifest) -> str:
    parts = [f"trailer {m.trailer_plate}"] if m.trailer_plate else []
    parts.append(f"containers {', '.join(m.containers)}" if m.containers else "no container")
    return "; ".join(parts)


def _changes(old: Manifest, new: Manifest) -> list[str]:
    fields = ("tractor_plate", "trailer_plate", "containers", "cargo_description")
    return [f for f in fields if getattr(old, f) != getattr(new, f)]
