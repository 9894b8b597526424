"""What-if on the risk-alert rules' parameters (issue 22, analysts): the same simulated day
with injected anomalies (bench/alerts.py's), the rules run under the gate file's parameters
(the baseline, in the same run) and under the changed ones; precision and recall per rule
against the injected ground truth, for both. Parameters are the gate file's `[alerts]` keys,
checked as the gate file is.

    python bench/alerts_whatif.py --set weight_tolerance=0.05 --set min_return_min=30

Precision of a rule: its alerts whose (rule, subject) was injected, over all its alerts
(collateral alerts on an anomalous truck count against it). Ends with one JSON line."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import UTC, datetime

from lanes.alerts import Alert, AlertRules, evaluate
from services.gates.loader import ALERT_KEYS, alert_rules_of, get_gate
from services.gates.schema import AlertsConfig
from services.simulation.alert_inputs import anomalous_day
from services.simulation.anomalies import KINDS, AnomalyWorld

START = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # bench/alerts.py's day


def scores(alerts: tuple[Alert, ...], world: AnomalyWorld) -> dict[str, dict[str, object]]:
    truth = {(i.rule, i.subject) for i in world.injected}
    out: dict[str, dict[str, object]] = {}
    for rule in KINDS:
        wanted = {s for r, s in truth if r == rule}
        mine = [a for a in alerts if a.rule == rule]
        hits = sum((a.rule, a.subject) in truth for a in mine)
        out[rule] = {
            "alerts": len(mine),
            "precision": round(hits / len(mine), 3) if mine else None,
            "recall": round(
                sum((rule, s) in {(a.rule, a.subject) for a in mine} for s in wanted) / len(wanted),
                3,
            )
            if wanted
            else None,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a gate-file [alerts] key and its new value",
    )
    parser.add_argument("--trucks", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-kind", type=int, default=20)
    args = parser.parse_args()
    gate = get_gate("huu-nghi")
    base = gate.alert_rules or AlertRules()
    changes = {k: json.loads(v) for k, v in (s.split("=", 1) for s in args.set)}
    what_if = alert_rules_of(
        AlertsConfig.model_validate(changes),
        visit_window=gate.visit_window,
        utc_offset=gate.utc_offset,
    )
    # the keys not set keep the gate's values, not the defaults
    fields = [ALERT_KEYS[k][0] for k in changes]
    what_if = replace(base, **{f: getattr(what_if, f) for f in fields})
    day = anomalous_day(
        gate, trucks=args.trucks, seed=args.seed, per_kind=args.per_kind, start=START
    )
    plan, world, obs, now = day.plan, day.world, day.observations, day.now
    before, after = (
        scores(evaluate(obs, base, now=now), world),
        scores(evaluate(obs, what_if, now=now), world),
    )
    print(f"what-if {changes} on {len(plan.trucks)} trucks (seed {args.seed})")
    print(f"{'rule':<18} {'alerts':>13} {'precision':>15} {'recall':>15}")
    for rule in KINDS:
        b, a = before[rule], after[rule]
        print(
            f"{rule:<18} {b['alerts']:>5} -> {a['alerts']:<5} {b['precision']!s:>6} -> "
            f"{a['precision']!s:<6} {b['recall']!s:>6} -> {a['recall']!s:<6}"
        )
    print(
        json.dumps(
            {
                "bench": "alerts_whatif",
                "seed": args.seed,
                "trucks": len(plan.trucks),
                "changes": changes,
                "baseline": before,
                "what_if": after,
            }
        )
    )


if __name__ == "__main__":
    main()
