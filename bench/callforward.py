"""Benchmark of call-forward (issue 23): today's orchestrated policy against call-forward from
the waiting areas, on the default gate and day, at 3,000 and 4,500 trucks a day.

Figures, both policies on the same seeded days:
- p95 road queue: trucks queued outside any waiting area (at the gate waiting for their lane
  or bay, or on the road because the area was full), time-weighted over the day (00:00-24:00
  local), of the worse direction; and its time-weighted mean;
- p95 dwell: first sighting (at the waiting area's camera) to done;
- call to gate (call-forward only), the waiting areas' most trucks at once.
Same road for both: today's trucks are sighted where the waiting area would be and drive the
area's drive time to the gate (the gate's `approach_time` is set to it for today's run), so
neither policy is given a shorter road. Targets (issue 23): p95 road queue reduced >= 80%
and p95 dwell <= 1.1x, at both sizes. Ends with one JSON line.

    python bench/callforward.py [--quick] [--seeds N] [--first-seed S] [--sizes 3000,4500]
        [--gate ID]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import replace
from typing import Any

from lanes.model import Direction, Gate
from services.gates.loader import get_gate
from services.simulation.day import default_day
from services.simulation.des import simulate
from services.simulation.kpis import summarise

TARGET_ROAD_REDUCTION = 0.80
TARGET_DWELL_RATIO = 1.10


def today_gate(gate: Gate) -> Gate:
    """The gate as today: no waiting area, the same road to the gate (its drive time)."""
    area = gate.waiting_area(Direction.EXPORT) or gate.waiting_area(Direction.IMPORT)
    if area is None:
        raise SystemExit(f"gate {gate.gate_id} has no waiting area: nothing to compare")
    return replace(gate, approach_time=area.drive_time, waiting_areas=())


def _mean_road(kpis: dict[str, Any]) -> float:
    means = kpis["series"]["queue_mean"]
    return round(max(sum(v) / len(v) for v in means.values()), 2)


def run(gate: Gate, trucks: int, seed: int, policy: str) -> tuple[dict[str, Any], float]:
    started = time.process_time()
    day = default_day(gate, trucks=trucks, seed=seed)
    kpis = summarise(simulate(gate, day, policy=policy))  # type: ignore[arg-type]
    return kpis, time.process_time() - started


def reduction(before: float, after: float) -> float:
    if before <= 0:
        return 1.0 if after <= 0 else 0.0
    return round(1 - after / before, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed (the default: 2)")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--first-seed", type=int, default=1, help="seeds FIRST..FIRST+N-1")
    parser.add_argument("--sizes", default="3000,4500")
    parser.add_argument("--gate", default="huu-nghi")
    args = parser.parse_args()
    count = args.seeds or (1 if args.quick else 2)
    seeds = list(range(args.first_seed, args.first_seed + count))
    sizes = [int(s) for s in args.sizes.split(",")]
    gate = get_gate(args.gate)
    today = today_gate(gate)
    print(
        f"call-forward on gate {gate.gate_id}, default day, seeds {seeds}: p95 road queue "
        f"(time-weighted, worse direction) and p95 dwell, today's orchestrated policy (same "
        f"road, {today.approach_time.total_seconds() / 60:g} min) vs call-forward"
    )
    results: dict[str, Any] = {}
    met_all = True
    cpu = 0.0
    for trucks in sizes:
        rows = []
        for seed in seeds:
            base, t1 = run(today, trucks, seed, "orchestrated")
            cf, t2 = run(gate, trucks, seed, "callforward")
            cpu += t1 + t2
            row = {
                "seed": seed,
                "today": {
                    "road_queue_p95": base["road_queue"]["p95"],
                    "road_queue_mean": _mean_road(base),
                    "road_queue_max": max(
                        v["max"] for v in base["road_queue"]["by_direction"].values()
                    ),
                    "dwell_p95_min": base["dwell_min"]["p95"],
                    "dwell_median_min": base["dwell_min"]["median"],
                },
                "callforward": {
                    "road_queue_p95": cf["road_queue"]["p95"],
                    "road_queue_mean": _mean_road(cf),
                    "road_queue_max": max(
                        v["max"] for v in cf["road_queue"]["by_direction"].values()
                    ),
                    "dwell_p95_min": cf["dwell_min"]["p95"],
                    "dwell_median_min": cf["dwell_min"]["median"],
                    "call_to_gate_p95_min": cf["call_to_gate_min"]["p95"],
                    "waiting_area_max": max(v["max"] for v in cf["waiting_area"].values()),
                    "recalled": cf["recalled"],
                    "places_lost": cf["places_lost"],
                },
            }
            t, c = row["today"], row["callforward"]
            row["road_queue_reduction"] = reduction(t["road_queue_p95"], c["road_queue_p95"])
            row["road_queue_mean_reduction"] = reduction(t["road_queue_mean"], c["road_queue_mean"])
            row["dwell_p95_ratio"] = (
                round(c["dwell_p95_min"] / t["dwell_p95_min"], 3) if t["dwell_p95_min"] else None
            )
            row["met"] = {
                "road_queue_reduction": row["road_queue_reduction"] >= TARGET_ROAD_REDUCTION,
                "dwell_p95_ratio": row["dwell_p95_ratio"] is not None
                and row["dwell_p95_ratio"] <= TARGET_DWELL_RATIO,
            }
            met_all = met_all and all(row["met"].values())
            rows.append(row)
            print(
                f"  {trucks:5d} trucks seed {seed}: road queue p95 {t['road_queue_p95']:3d} -> "
                f"{c['road_queue_p95']:3d} ({row['road_queue_reduction']:.0%} less; mean "
                f"{t['road_queue_mean']} -> {c['road_queue_mean']}, max {t['road_queue_max']} "
                f"-> {c['road_queue_max']}); dwell p95 {t['dwell_p95_min']:.1f} -> "
                f"{c['dwell_p95_min']:.1f} min (x{row['dwell_p95_ratio']}); call to gate p95 "
                f"{c['call_to_gate_p95_min']} min; waiting area max {c['waiting_area_max']}"
            )
        results[str(trucks)] = rows
    print(
        f"targets: road queue p95 reduced >= {TARGET_ROAD_REDUCTION:.0%}, dwell p95 <= "
        f"{TARGET_DWELL_RATIO}x, at every size and seed: {'met' if met_all else 'NOT met'}"
    )
    summary = {
        "bench": "callforward",
        "gate": gate.gate_id,
        "seeds": seeds,
        "sizes": sizes,
        "drive_time_min": today.approach_time.total_seconds() / 60,
        "results": results,
        "targets": {
            "road_queue_reduction_min": TARGET_ROAD_REDUCTION,
            "dwell_p95_ratio_max": TARGET_DWELL_RATIO,
        },
        "met": met_all,
        "cpu_s": round(cpu, 1),
        "python": platform.python_version(),
        "quick": args.quick,
    }
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
