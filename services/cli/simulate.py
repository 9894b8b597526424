"""`borderflow simulate`: one simulated border day under a policy (or both), its KPIs as JSON
on standard output, and with `--out DIR` the full KPIs (hourly series included) in
`DIR/kpis.json` and the chart in `DIR/day.png`."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from lanes.errors import DomainError, UnknownGateError
from lanes.model import Gate
from services.gates.loader import GateConfigError, configured_gates, get_gate
from services.simulation.day import DEFAULT_DAY, default_day
from services.simulation.des import ALL_POLICIES, POLICIES, PolicyName, simulate
from services.simulation.kpis import summarise

# The "Done when" figures, on the default gate at 3,000 trucks a day.
MEDIAN_DWELL_MAX_MIN = 10.0
PERISHABLE_P95_MAX_MIN = 15.0
P95_RATIO_MAX = 0.5  # orchestrated p95 dwell over fifo's, in the same run


def run_day(
    gate: Gate,
    *,
    trucks: int,
    seed: int,
    policies: tuple[PolicyName, ...],
    day: date = DEFAULT_DAY,
) -> dict[str, Any]:
    """The KPIs of each policy on the same day; with both, their ratios and the targets."""
    simulated = default_day(gate, trucks=trucks, seed=seed, day=day)
    kpis: dict[str, dict[str, Any]] = {
        policy: summarise(simulate(gate, simulated, policy=policy)) for policy in policies
    }
    if len(policies) == 1:
        return kpis[policies[0]]
    fifo, orch = kpis["fifo"], kpis["orchestrated"]
    result: dict[str, Any] = {"gate": gate.gate_id, "seed": seed, "trucks": trucks, **kpis}
    result["ratios"] = {
        "orchestrated_over_fifo": {
            "dwell_median": _ratio(orch["dwell_min"]["median"], fifo["dwell_min"]["median"]),
            "dwell_p95": _ratio(orch["dwell_min"]["p95"], fifo["dwell_min"]["p95"]),
            "dwell_max": _ratio(orch["dwell_min"]["max"], fifo["dwell_min"]["max"]),
            "perishable_dwell_p95": _ratio(
                orch["perishable_dwell_p95_min"], fifo["perishable_dwell_p95_min"]
            ),
        }
    }
    result["targets"] = targets(orch, fifo)
    return result


def targets(orch: dict[str, Any], fifo: dict[str, Any]) -> dict[str, Any]:
    """The issue's targets for the orchestrated run, each with its figure and whether met."""
    not_done = orch["not_completed_same_day_of_arrived_before_22"]
    median = orch["dwell_min"]["median"]
    perishable = orch["perishable_dwell_p95_min"]
    ratio = _ratio(orch["dwell_min"]["p95"], fifo["dwell_min"]["p95"])
    found = {
        "all_arrived_before_22_done_same_day": {"value": not_done, "met": not_done == 0},
        "median_dwell_max_min": {
            "target": MEDIAN_DWELL_MAX_MIN,
            "value": median,
            "met": median <= MEDIAN_DWELL_MAX_MIN,
        },
        "p95_dwell_over_fifo_max": {
            "target": P95_RATIO_MAX,
            "value": ratio,
            "met": ratio is not None and ratio <= P95_RATIO_MAX,
        },
        "perishable_p95_max_min": {
            "target": PERISHABLE_P95_MAX_MIN,
            "value": perishable,
            "met": perishable <= PERISHABLE_P95_MAX_MIN,
        },
    }
    if not orch["trucks_completed"] or not fifo["trucks_completed"]:
        # a day with no truck through says nothing of them: neither met nor missed
        for name, target in found.items():
            if name != "all_arrived_before_22_done_same_day" or not orch["arrived_before_22"]:
                found[name] = {**target, "met": None, "why": "no truck completed the day"}
    return found


def _ratio(a: float, b: float) -> float | None:
    return None if b == 0 else round(a / b, 3)


def _without_series(result: dict[str, Any]) -> dict[str, Any]:
    return {
        key: _without_series(value) if isinstance(value, dict) else value
        for key, value in result.items()
        if key != "series"
    }


def main_simulate(
    *,
    gate_id: str,
    trucks: int,
    policy: str,
    seed: int,
    out: str | None,
    gates_dir: Path | None = None,
    day: date | None = None,
) -> int:
    try:
        gate = get_gate(gate_id, configured_gates(gates_dir))
    except (DomainError, GateConfigError) as exc:
        hint = ""
        if isinstance(exc, UnknownGateError) and gates_dir is None:
            hint = (
                "; to simulate a gate of your own, put its file in a folder and set "
                "BORDERFLOW_GATES_DIR to that folder"
            )
        sys.stderr.write(f"borderflow simulate: {exc}{hint}\n")
        return 2
    if trucks < 0:
        sys.stderr.write(f"borderflow simulate: --trucks must be >= 0, got {trucks}\n")
        return 2
    policies = POLICIES if policy == "both" else tuple(p for p in ALL_POLICIES if p == policy)
    if not policies:
        sys.stderr.write(f"borderflow simulate: unknown policy {policy!r}\n")
        return 2
    result = run_day(gate, trucks=trucks, seed=seed, policies=policies, day=day or DEFAULT_DAY)
    if out is not None:
        from services.simulation.chart import render_day  # noqa: PLC0415 (matplotlib is slow to import)

        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(result, sort_keys=True, indent=2) + "\n"
        (folder / "kpis.json").write_text(text, encoding="utf-8")
        by_policy: dict[str, dict[str, Any]] = (
            {p: result[p] for p in policies} if len(policies) > 1 else {policies[0]: result}
        )
        title = f"{gate.name}, {(day or DEFAULT_DAY).isoformat()}: {trucks} trucks, seed {seed}"
        render_day(by_policy, folder / "day.png", title=title)
    sys.stdout.write(json.dumps(_without_series(result), sort_keys=True) + "\n")
    return 0
