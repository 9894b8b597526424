"""KPIs of a set of decisions (each visit's current one), for the replay's comparison: the
outcomes, expected waits and dwells, and the series the report draws (queue per lane,
carrier utilisation per hour). Expected times are the policy's projections at decision time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from lanes.model import Gate
from services.replay.compare import Decision, _at, first_seen, latest, wait_min

STEP = timedelta(minutes=5)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def _dwell(d: Decision, seen_at: datetime) -> float | None:
    """Seen (first decision) to expected done, in minutes."""
    done = d.get("expected_done_at")
    if not done:
        return None
    return round((_at(done) - seen_at).total_seconds() / 60, 2)


def is_perishable(d: Decision) -> bool:
    """From the reason's truck description (`green, 1 container, perishable, walk-in,
    priority 1: ...`, also after a re-plan's `... -> `)."""
    reason = str(d.get("reason", ""))
    head = reason.split(", priority ", maxsplit=1)[0] if ", priority " in reason else ""
    return "perishable" in head.rsplit("-> ", 1)[-1].split(", ")


def kpis(decisions: Iterable[Decision], *, gate: Gate | None = None) -> dict[str, Any]:
    decisions = list(decisions)
    current = list(latest(decisions).values())
    seen = first_seen(decisions)
    assigned = [d for d in current if d.get("outcome") == "assigned"]
    waits = [w for d in assigned if (w := wait_min(d, seen[str(d["visit_id"])])) is not None]
    dwells = [w for d in assigned if (w := _dwell(d, seen[str(d["visit_id"])])) is not None]
    perishable = [
        w
        for d in assigned
        if is_perishable(d) and (w := _dwell(d, seen[str(d["visit_id"])])) is not None
    ]
    outcomes = Counter(str(d.get("outcome")) for d in current)
    carrier = [d for d in assigned if d.get("carrier_slot")]
    return {
        "trucks": len(current),
        "assigned": outcomes["assigned"],
        "needs_review": outcomes["needs_review"],
        "refused": outcomes["refused"],
        "revisions": sum(1 for d in current if int(d.get("revision", 0)) > 0),
        "by_carrier_slot": len(carrier),
        "wait_min_median": round(median(waits), 2) if waits else None,
        "wait_min_p95": _pct(waits, 0.95),
        "wait_min_max": round(max(waits), 2) if waits else None,
        "dwell_min_median": round(median(dwells), 2) if dwells else None,
        "dwell_min_p95": _pct(dwells, 0.95),
        "perishable_dwell_min_p95": _pct(perishable, 0.95),
        "carrier_utilisation": carrier_utilisation_total(current, gate),
        "trucks_by_lane": dict(
            sorted(Counter(str(d["lane_id"]) for d in assigned if d.get("lane_id")).items())
        ),
    }


def queue_series(decisions: Iterable[Decision]) -> dict[str, list[tuple[datetime, int]]]:
    """Per lane, every 5 minutes of event time: trucks assigned to it and not yet started
    (seen at or before the tick, expected start after it)."""
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for d in latest(decisions).values():
        if d.get("outcome") == "assigned" and d.get("lane_id") and d.get("expected_start_at"):
            spans.setdefault(str(d["lane_id"]), []).append(
                (_at(d["decided_at"]), _at(d["expected_start_at"]))
            )
    if not spans:
        return {}
    first = min(s for v in spans.values() for s, _ in v)
    last = max(e for v in spans.values() for _, e in v)
    ticks = []
    t = first.replace(minute=first.minute - first.minute % 5, second=0, microsecond=0)
    while t <= last:
        ticks.append(t)
        t += STEP
    return {
        lane: [(tick, sum(1 for s, e in v if s <= tick < e)) for tick in ticks]
        for lane, v in sorted(spans.items())
    }


def _trips(decisions: Iterable[Decision]) -> dict[str, datetime]:
    """Carrier trips (`AC-3@21:31`), each at the earliest handover planned for it."""
    trips: dict[str, datetime] = {}
    for d in decisions:
        slot, start = d.get("carrier_slot"), d.get("expected_start_at")
        if d.get("outcome") == "assigned" and slot and start:
            at = _at(start)
            trips[str(slot)] = min(trips.get(str(slot), at), at)
    return trips


def carrier_utilisation(decisions: Iterable[Decision], gate: Gate | None) -> dict[str, float]:
    """Per hour (UTC, ISO), the share of the fleet's time spent on trips (a trip: one mean
    round trip from its first handover)."""
    fleet = gate.fleet if gate is not None else None
    if fleet is None or not fleet.carriers:
        return {}
    busy: dict[datetime, float] = {}
    for at in _trips(decisions).values():
        hour = at.replace(minute=0, second=0, microsecond=0)
        busy[hour] = busy.get(hour, 0.0) + fleet.round_trip.total_seconds()
    per_hour = 3600 * len(fleet.carriers)
    return {h.isoformat(): round(min(1.0, s / per_hour), 3) for h, s in sorted(busy.items())}


def carrier_utilisation_total(decisions: list[Decision], gate: Gate | None) -> float | None:
    hours = carrier_utilisation(decisions, gate)
    return round(sum(hours.values()) / len(hours), 3) if hours else None


def comparison(recorded: Mapping[str, Any], replayed: Mapping[str, Any]) -> dict[str, Any]:
    """Each numeric KPI side by side with replayed minus recorded."""
    out: dict[str, Any] = {}
    for name, before in recorded.items():
        after = replayed.get(name)
        if isinstance(before, int | float) and isinstance(after, int | float):
            out[name] = {"recorded": before, "replayed": after, "change": round(after - before, 3)}
        else:
            out[name] = {"recorded": before, "replayed": after}
    return out
