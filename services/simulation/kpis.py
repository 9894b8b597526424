"""The KPIs of a simulated day: a JSON-ready dict, deterministic (rounded, sorted keys), so
that the same seed gives byte-identical JSON.

Dwell: first sighting to leaving the lane, or to the end of the handover at the yard for a
truck given a carrier slot. Percentiles are nearest-rank. Utilisation: busy time over open
time within the day (00:00-24:00 local), open time that counts the overtime of a truck
still in service when the lane's hours end; carriers: time on trips over the day.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from lanes.model import Direction, LaneKind
from lanes.policy import FifoPolicy
from lanes.policy.hours import stretch
from services.simulation.des import DRAIN, DayRun

SAME_DAY_CUTOFF = timedelta(hours=22)  # trucks arriving before 22:00 must finish that day
_HOUR = timedelta(hours=1)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of sorted `values` (0 when empty)."""
    if not values:
        return 0.0
    rank = max(1, math.ceil(share * len(values)))
    return values[rank - 1]


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def _r(value: float, digits: int = 2) -> float:
    return round(value, digits)


def _overlap(spans: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime) -> float:
    """Seconds of `spans` inside [start, end)."""
    return sum(max(0.0, (min(b, end) - max(a, start)).total_seconds()) for a, b in spans if a < end)


def _union(spans: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime) -> float:
    """Seconds inside [start, end) covered by at least one of `spans`."""
    covered, reach = 0.0, start
    for a, b in sorted(spans):
        begin, until = max(a, reach), min(b, end)
        if until > begin:
            covered += (until - begin).total_seconds()
            reach = until
    return covered


def _working_seconds(run: DayRun, lane_id: str, start: datetime, end: datetime) -> float:
    """The time the lane was open, or working past its hours (a truck in service when they
    end is finished there), inside [start, end)."""
    lane = next(lane for lane in run.gate.lanes if lane.lane_id == lane_id)
    if not lane.hours.windows:
        return (end - start).total_seconds()
    spans = []
    at = start
    while at < end:
        window = stretch(lane.hours, at, run.gate.utc_offset)
        if window is None:
            break
        spans.append(window)
        at = window[1]
    return _union([*spans, *run.lane_busy[lane_id]], start, end)


def summarise(run: DayRun) -> dict[str, Any]:
    """The day's KPIs and the hourly series for the chart."""
    day = run.day
    start, midnight = day.start, day.end
    records = list(run.records.values())
    dwell = sorted(
        _minutes(r.done_at - r.truck.arrived_at) for r in records if r.done_at is not None
    )
    perishable = sorted(
        _minutes(r.done_at - r.truck.arrived_at)
        for r in records
        if r.done_at is not None and r.truck.perishable
    )
    by_midnight = [r for r in records if r.done_at is not None and r.done_at <= midnight]
    early = [r for r in records if r.truck.arrived_at < start + SAME_DAY_CUTOFF]
    early_done = [r for r in early if r.done_at is not None and r.done_at <= midnight]
    lanes: dict[str, float] = {}
    for lane_id, spans in run.lane_busy.items():
        opened = _working_seconds(run, lane_id, start, midnight)
        lanes[lane_id] = _r(_overlap(spans, start, midnight) / opened, 3) if opened else 0.0
    day_s = (midnight - start).total_seconds()
    carriers = {
        carrier_id: _r(_overlap(trips, start, midnight) / day_s, 3)
        for carrier_id, trips in run.carrier_trips.items()
    }
    fleet = _r(sum(carriers.values()) / len(carriers), 3) if carriers else 0.0
    return {
        "policy": run.policy,
        "gate": run.gate.gate_id,
        "day": start.date().isoformat(),
        "seed": day.seed,
        "trucks_arrived": len(records),
        "bookings": day.bookings,
        "no_shows": day.no_shows,
        "bookings_refused": day.bookings_refused,
        "trucks_completed": len(by_midnight),
        "trucks_waiting_at_midnight": len(records) - len(by_midnight),
        "trucks_never_completed": sum(1 for r in records if r.done_at is None),
        "trucks_never_completed_why": never_completed_why(run),
        "arrived_before_22": len(early),
        "completed_same_day_of_arrived_before_22": len(early_done),
        "not_completed_same_day_of_arrived_before_22": len(early) - len(early_done),
        "dwell_min": {
            "median": _r(percentile(dwell, 0.5)),
            "p95": _r(percentile(dwell, 0.95)),
            "max": _r(dwell[-1] if dwell else 0.0),
        },
        "perishable_dwell_p95_min": _r(percentile(perishable, 0.95)),
        "lane_utilisation": lanes,
        "carrier_utilisation": {**carriers, "fleet": fleet},
        "containers_moved_by_carrier": run.containers_moved,
        "trucks_by_carrier_slot": sum(
            1 for r in records if r.place is not None and r.place not in run.lane_busy
        ),
        "longest_queue": {d.value: max(n for _, n in run.queue_changes[d]) for d in Direction},
        "replanned": run.replanned,
        "refused": run.refused,
        **callforward_kpis(run),
        "series": _series(run),
    }


def never_completed_why(run: DayRun) -> dict[str, int]:
    """The trucks not done when the run stopped (`DRAIN` after the day), counted by why: the
    gate has no lane for their direction, channel and cargo (a gate file's choice: no lane
    for red trucks, or for hazmat), they lost their place (call-forward), or they were still
    waiting."""
    why: Counter[str] = Counter()
    takes = FifoPolicy().takes
    stopped = f"still waiting when the run stopped, {DRAIN / _HOUR:g} h after the day"
    for record in run.records.values():
        truck = record.truck
        if record.done_at is not None:
            continue
        if truck.visit_id in run.lost:
            why["place lost: called, recalled and not at the gate"] += 1
        elif not any(takes(lane, truck) for lane in run.gate.lanes):
            cargo = "+".join(sorted(c.value for c in truck.cargo))
            why[f"no {truck.direction.value} lane takes {truck.channel.value} {cargo} cargo"] += 1
        else:
            why[stopped] += 1
    return dict(sorted(why.items()))


def level_percentile(
    changes: Sequence[tuple[datetime, int]], start: datetime, end: datetime, share: float
) -> int:
    """The level a step series (time, level from then on) stays at or under for `share` of
    [start, end): time-weighted, so a queue of 40 for 3 minutes weighs 3 minutes."""
    spans: dict[int, float] = {}
    ordered = sorted(changes, key=lambda c: c[0])
    level = 0
    last = start
    for at, n in ordered:
        if at > last:
            spans[level] = spans.get(level, 0.0) + (min(at, end) - last).total_seconds()
            last = min(at, end)
        if at >= end:
            break
        level = n
    if end > last:
        spans[level] = spans.get(level, 0.0) + (end - last).total_seconds()
    total = sum(spans.values())
    seen = 0.0
    for n in sorted(spans):
        seen += spans[n]
        if seen >= share * total - 1e-9:
            return n
    return 0


def callforward_kpis(run: DayRun) -> dict[str, Any]:
    """Issue 23: the road queue (trucks queued outside any waiting area, per direction:
    time-weighted p95 over the day and the most at once; the headline p95 is the worse
    direction's), the waiting areas' occupancy, and the time from call to gate."""
    start, end = run.day.start, run.day.end
    road = {
        d.value: {
            "p95": level_percentile(changes, start, end, 0.95),
            "max": max(n for _, n in changes),
        }
        for d, changes in run.queue_changes.items()
    }
    called = sorted(
        _minutes(r.reached_gate_at - r.called_at)
        for r in run.records.values()
        if r.called_at is not None
    )
    area = {
        d.value: {
            "p95": level_percentile(changes, start, end, 0.95),
            "max": max(n for _, n in changes),
        }
        for d, changes in run.area_changes.items()
    }
    return {
        "road_queue": {"p95": max(v["p95"] for v in road.values()), "by_direction": road},
        "waiting_area": area,
        "call_to_gate_min": {
            "calls": len(called),
            "median": _r(percentile(called, 0.5)),
            "p95": _r(percentile(called, 0.95)),
        },
        "recalled": run.recalled,
        "places_lost": run.places_lost,
    }


def _series(run: DayRun) -> dict[str, Any]:
    """Hourly, over the day: trucks waiting per direction (max and time-weighted mean),
    utilisation per direction and lane kind, and of the carrier fleet."""
    start = run.day.start
    hours = [(start + n * _HOUR, start + (n + 1) * _HOUR) for n in range(24)]
    queue_max: dict[str, list[int]] = {}
    queue_mean: dict[str, list[float]] = {}
    for direction, changes in run.queue_changes.items():
        maxima, means = [], []
        for a, b in hours:
            level = next((n for t, n in reversed(changes) if t <= a), 0)
            peak, area, last = level, 0.0, a
            for t, n in changes:
                if a < t < b:
                    area += level * (t - last).total_seconds()
                    level, last, peak = n, t, max(peak, n)
            area += level * (b - last).total_seconds()
            maxima.append(peak)
            means.append(_r(area / 3600, 2))
        queue_max[direction.value] = maxima
        queue_mean[direction.value] = means
    utilisation: dict[str, list[float]] = {}
    for direction in Direction:
        for kind in LaneKind:
            ids = [
                lane.lane_id
                for lane in run.gate.lanes
                if lane.direction is direction and lane.kind is kind
            ]
            if not ids:
                continue
            utilisation[f"{direction.value} {kind.value}"] = [
                _r(sum(_overlap(run.lane_busy[i], a, b) for i in ids) / (3600 * len(ids)), 3)
                for a, b in hours
            ]
    if run.carrier_trips:
        utilisation["carriers"] = [
            _r(
                sum(_overlap(t, a, b) for t in run.carrier_trips.values())
                / (3600 * len(run.carrier_trips)),
                3,
            )
            for a, b in hours
        ]
    return {
        "hour": list(range(24)),
        "queue_max": queue_max,
        "queue_mean": queue_mean,
        "utilisation": utilisation,
    }
