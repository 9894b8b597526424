"""Benchmark of the risk-alert rules (issue 22): a simulated day with anomalies of every kind
injected (services/simulation/anomalies.py, with their ground truth), the rules
(lanes/alerts) run over it as the gate would see it (reads with OCR mistakes, exits,
portal containers, weighings, manifest versions, bookings): recall per rule, and false
alerts per 1,000 trucks. An alert is false when its subject is touched by no injected
anomaly; an alert of another rule on an anomalous truck (a clone's containers) is counted
as collateral, not false.

Targets (issue 22): recall >= 95% per rule; false alerts <= 1 per 1,000 trucks. Ends with
one JSON line of the figures and the targets.

    python bench/alerts.py [--trucks N] [--seed N] [--per-kind N]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from datetime import UTC, datetime

from lanes.alerts import RULES, evaluate
from services.gates.loader import get_gate
from services.simulation.alert_inputs import anomalous_day
from services.simulation.anomalies import KINDS

TARGETS = {"recall_min": 0.95, "false_per_1000_trucks_max": 1.0}
START = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 00:00 local at Huu Nghi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trucks", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-kind", type=int, default=20)
    args = parser.parse_args()
    gate = get_gate("huu-nghi")
    day = anomalous_day(
        gate, trucks=args.trucks, seed=args.seed, per_kind=args.per_kind, start=START
    )
    plan, world, obs, now = day.plan, day.world, day.observations, day.now
    started = time.perf_counter()
    alerts = evaluate(obs, gate.alert_rules, now=now)  # the gate file's parameters
    wall = time.perf_counter() - started
    again = evaluate(obs, gate.alert_rules, now=now)

    raised = {(a.rule, a.subject) for a in alerts}
    touched = {s for i in world.injected for s in i.touches} | {i.subject for i in world.injected}
    truth = {(i.rule, i.subject) for i in world.injected}
    false = [a for a in alerts if a.subject not in touched]
    collateral = [a for a in alerts if a.subject in touched and (a.rule, a.subject) not in truth]
    per_rule = {}
    print(
        f"{len(plan.trucks)} trucks, {len(plan.reads)} reads, {len(alerts)} alerts "
        f"({wall:.2f} s), same again: {again == alerts}"
    )
    print(f"{'rule':<18} {'injected':>8} {'found':>6} {'recall':>7} {'false':>6}")
    false_by = Counter(a.rule for a in false)
    for rule in KINDS:
        wanted = {i.subject for i in world.injected if i.rule == rule}
        found = sum(1 for s in wanted if (rule, s) in raised)
        recall = found / len(wanted) if wanted else None
        per_rule[rule] = {
            "injected": len(wanted),
            "found": found,
            "recall": recall,
            "false": false_by[rule],
        }
        shown = "-" if recall is None else f"{recall:.1%}"
        print(f"{rule:<18} {len(wanted):>8} {found:>6} {shown:>7} {false_by[rule]:>6}")
    for a in false[:10]:
        print(f"  false: {a.rule} {a.subject}: {a.explanation}")
    per_1000 = 1000 * len(false) / max(1, len(plan.trucks))
    recalls = [r["recall"] for r in per_rule.values() if r["recall"] is not None]
    print(
        f"false alerts: {len(false)} ({per_1000:.2f} per 1,000 trucks); "
        f"collateral: {len(collateral)}"
    )
    print(
        json.dumps(
            {
                "bench": "alerts",
                "trucks": len(plan.trucks),
                "seed": args.seed,
                "per_kind": args.per_kind,
                "rules": per_rule,
                "rules_not_injected": sorted(set(RULES) - set(KINDS)),
                "min_recall": min(recalls) if recalls else None,
                "false_alerts": len(false),
                "false_per_1000_trucks": round(per_1000, 3),
                "collateral_alerts": len(collateral),
                "replay_identical": again == alerts,
                "evaluate_wall_s": round(wall, 3),
                "targets": TARGETS,
                "met": bool(recalls)
                and min(recalls) >= TARGETS["recall_min"]
                and per_1000 <= TARGETS["false_per_1000_trucks_max"],
            }
        )
    )


if __name__ == "__main__":
    main()
