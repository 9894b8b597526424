"""Benchmark of gate capacity under each assignment policy (issue 4): the highest daily volume
(trucks arriving a day) whose p95 dwell stays under 60 minutes on the default gate, for
`fifo` and `orchestrated`, and their ratio; and how fast the simulation runs.

Each volume is simulated on a few seeded days (`--seeds`, the same seeds for both policies);
a volume passes when the p95 dwell of EVERY seed is under the limit. The search brackets the
limit (doubling the upper bound until it fails) and bisects to `--resolution` trucks/day,
assuming more trucks never make the p95 shorter. Speed: simulated trucks per second of CPU
(`time.process_time`, the whole simulation: day, policy, engine and KPIs).
Target (issue 4): orchestrated sustains >= 4,500 trucks/day. Ends with one JSON line of the
figures and the targets.

    python bench/capacity.py [--quick] [--seeds N] [--resolution N] [--gate ID]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import dataclass, field
from typing import Any

from lanes.model import Gate
from services.gates.loader import get_gate
from services.simulation.day import default_day
from services.simulation.des import POLICIES, PolicyName, simulate
from services.simulation.kpis import summarise

P95_LIMIT_MIN = 60.0
TARGET_ORCHESTRATED_MIN = 4500
START_LOW = 1000
START_HIGH = 8000


@dataclass
class Search:
    policy: PolicyName
    seeds: tuple[int, ...]
    tried: dict[int, list[float]] = field(default_factory=dict)  # volume -> p95 per seed run
    trucks: int = 0
    cpu_s: float = 0.0

    def passes(self, gate: Gate, volume: int) -> bool:
        """Every seed's p95 dwell under the limit (stops at the first seed over it)."""
        p95s: list[float] = []
        for seed in self.seeds:
            started = time.process_time()
            day = default_day(gate, trucks=volume, seed=seed)
            kpis = summarise(simulate(gate, day, policy=self.policy))
            self.cpu_s += time.process_time() - started
            self.trucks += volume
            p95s.append(kpis["dwell_min"]["p95"])
            if p95s[-1] >= P95_LIMIT_MIN:
                break
        self.tried[volume] = p95s
        ok = all(p < P95_LIMIT_MIN for p in p95s)
        shown = ", ".join(f"{p:.1f}" for p in p95s)
        print(
            f"  {self.policy:12s} {volume:6d} trucks/day  p95 {shown:28s} {'ok' if ok else 'over'}"
        )
        return ok

    def capacity(self, gate: Gate, resolution: int) -> int:
        low, high = START_LOW, START_HIGH
        if not self.passes(gate, low):
            return 0
        while self.passes(gate, high):
            low, high = high, high * 2
        while high - low > resolution:
            middle = (low + high) // 2 // 50 * 50 or low + 1
            if self.passes(gate, middle):
                low = middle
            else:
                high = middle
        return low


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 250 trucks/day resolution")
    parser.add_argument("--seeds", type=int, default=None, help="seeded days a volume (3)")
    parser.add_argument("--resolution", type=int, default=None, help="trucks/day (100)")
    parser.add_argument("--gate", default="huu-nghi")
    args = parser.parse_args()
    seeds = tuple(range(1, (args.seeds or (2 if args.quick else 3)) + 1))
    resolution = args.resolution or (250 if args.quick else 100)
    gate = get_gate(args.gate)
    print(
        f"capacity of gate {gate.gate_id}: highest trucks/day with p95 dwell < "
        f"{P95_LIMIT_MIN:.0f} min on every one of seeds {list(seeds)}, to {resolution} trucks/day"
    )
    searches = {policy: Search(policy, seeds) for policy in POLICIES}
    found = {policy: search.capacity(gate, resolution) for policy, search in searches.items()}
    ratio = round(found["orchestrated"] / found["fifo"], 2) if found["fifo"] else None
    speed = {
        policy: round(search.trucks / search.cpu_s) if search.cpu_s else None
        for policy, search in searches.items()
    }
    print()
    for policy in POLICIES:
        print(
            f"{policy:12s} capacity {found[policy]:6d} trucks/day   "
            f"simulation {speed[policy]} trucks per CPU second"
        )
    print(f"ratio orchestrated / fifo: {ratio}")
    met = found["orchestrated"] >= TARGET_ORCHESTRATED_MIN
    verdict = "met" if met else "NOT met"
    print(f"target orchestrated >= {TARGET_ORCHESTRATED_MIN} trucks/day: {verdict}")
    summary: dict[str, Any] = {
        "bench": "capacity",
        "gate": gate.gate_id,
        "p95_limit_min": P95_LIMIT_MIN,
        "seeds": list(seeds),
        "resolution_trucks_per_day": resolution,
        "capacity_trucks_per_day": found,
        "ratio_orchestrated_over_fifo": ratio,
        "sim_trucks_per_cpu_s": speed,
        "volumes_tried": {
            policy: {str(v): p for v, p in sorted(s.tried.items())}
            for policy, s in searches.items()
        },
        "targets": {"orchestrated_capacity_min": TARGET_ORCHESTRATED_MIN},
        "met": {"orchestrated_capacity_min": met},
        "python": platform.python_version(),
        "quick": args.quick,
    }
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
