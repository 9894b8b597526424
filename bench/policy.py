"""Benchmark of the incremental policy (issue 26, item 3): `OrchestratedPolicy.assign` (the
live one: per-lane expected completions kept with the board) against the implementation it
replaced (`lanes.policy.reference.ReferencePolicy`, which projects every candidate lane's
queue, the yard and the carrier trips on each call).

1. Equivalence: `--days` simulated days (3,000 trucks each by default, seeds 1..N, the shipped
   gate) are played out with the live policy; every assign the simulation makes (arrivals,
   re-plans, call-forwards) is also put to the reference, and the Assignment and the Board
   must be equal. Prints "identical decisions on N days".
2. Speed: the calls of the first `--timing-days` days, recorded with their inputs, are
   decided again by each policy (a fresh instance, the calls in their order, as the live
   path sees them), alternately, `--rounds` times; the best round of each gives decisions/s
   and the speed-up ratio, both measured in this run.

Target (issue 26): >= 10x faster per decision, identical decisions on >= 100 days. Ends with
one JSON line.

    python bench/policy.py [--days 100] [--trucks 3000] [--timing-days 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import datetime
from unittest import mock

from lanes.board import Board, Truck
from lanes.model import Assignment, Gate
from lanes.policy import OrchestratedPolicy
from lanes.policy.reference import ReferencePolicy
from services.gates.loader import default_gates, get_gate
from services.simulation import des
from services.simulation.day import default_day
from services.simulation.des import simulate

TARGETS = {"speedup_min": 10.0, "identical_days_min": 100}
Call = tuple[Truck, Board, Gate, datetime]


class Checked(OrchestratedPolicy):
    """The live policy; each assign also put to the reference, and recorded when asked."""

    __slots__ = ("calls", "mismatches", "record", "reference")

    def __init__(self, record: list[Call] | None) -> None:
        super().__init__()
        self.reference = ReferencePolicy()
        self.calls = self.mismatches = 0
        self.record = record

    def assign(
        self, truck: Truck, board: Board, gate: Gate, *, now: datetime
    ) -> tuple[Assignment, Board]:
        got = super().assign(truck, board, gate, now=now)
        self.calls += 1
        self.mismatches += got != self.reference.assign(truck, board, gate, now=now)
        if self.record is not None:
            self.record.append((truck, board, gate, now))
        return got


def check_day(gate: Gate, *, trucks: int, seed: int, record: list[Call] | None) -> tuple[int, int]:
    """(assigns, mismatches) of one simulated day."""
    policies: list[Checked] = []

    def make() -> Checked:
        policies.append(Checked(record))
        return policies[-1]

    with mock.patch.object(des, "OrchestratedPolicy", make):
        simulate(gate, default_day(gate, trucks=trucks, seed=seed), policy="orchestrated")
    return sum(p.calls for p in policies), sum(p.mismatches for p in policies)


def timed(policy: OrchestratedPolicy, calls: list[Call]) -> float:
    started = time.perf_counter()
    for truck, board, gate, now in calls:
        policy.assign(truck, board, gate, now=now)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--trucks", type=int, default=3000)
    parser.add_argument("--timing-days", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    gate = get_gate("huu-nghi", default_gates())
    recorded: list[Call] = []
    decisions = mismatches = identical_days = 0
    started = time.perf_counter()
    for seed in range(1, args.days + 1):
        keep = recorded if seed <= args.timing_days else None
        calls, wrong = check_day(gate, trucks=args.trucks, seed=seed, record=keep)
        decisions += calls
        mismatches += wrong
        identical_days += wrong == 0
        if seed % 10 == 0 or seed == args.days:
            print(f"checked   {seed} days, {decisions:,} decisions, {mismatches} different")
    check_s = time.perf_counter() - started
    best = {"reference": float("inf"), "incremental": float("inf")}
    for _ in range(args.rounds):
        best["reference"] = min(best["reference"], timed(ReferencePolicy(), recorded))
        best["incremental"] = min(best["incremental"], timed(OrchestratedPolicy(), recorded))
    rate = {name: len(recorded) / seconds for name, seconds in best.items()}
    speedup = rate["incremental"] / rate["reference"]
    print(
        f"timing    {len(recorded):,} recorded calls ({args.timing_days} days), best of "
        f"{args.rounds} rounds each, alternately"
    )
    print(
        f"reference   {rate['reference']:>10,.0f} decisions/s "
        f"({1e6 / rate['reference']:.0f} us a decision)"
    )
    print(
        f"incremental {rate['incremental']:>10,.0f} decisions/s "
        f"({1e6 / rate['incremental']:.0f} us a decision)"
    )
    print(f"speed-up  {speedup:.1f}x")
    print(
        f"identical decisions on {identical_days} days (of {args.days}; {decisions:,} "
        f"decisions, {mismatches} different; checked in {check_s:.0f} s)"
    )
    passed = {
        "speedup": speedup >= TARGETS["speedup_min"],
        "identical_days": identical_days >= TARGETS["identical_days_min"] and mismatches == 0,
    }
    for key, ok in passed.items():
        print(f"target    {key:15s} {'PASS' if ok else 'FAIL'}")
    figures = {
        "days": args.days,
        "trucks_per_day": args.trucks,
        "decisions_checked": decisions,
        "mismatches": mismatches,
        "identical_days": identical_days,
        "timed_calls": len(recorded),
        "reference_decisions_per_s": round(rate["reference"]),
        "incremental_decisions_per_s": round(rate["incremental"]),
        "speedup": round(speedup, 2),
        "machine": f"{platform.machine()} Python {platform.python_version()}",
    }
    print(
        json.dumps(
            {
                "bench": "policy",
                "figures": figures,
                "targets": TARGETS,
                "pass": {**passed, "all": all(passed.values())},
            }
        )
    )


if __name__ == "__main__":
    main()
