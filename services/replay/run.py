"""`borderflow replay`: load the recorded inputs, replay them in the sandbox under the
recorded or a what-if policy, and write DIR/decisions.jsonl (in the order they were made,
i.e. the recorded batches' order; byte-identical run to run),
DIR/diff.jsonl (per truck), DIR/kpis.json and DIR/report.html."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func, select

from lanes.plates import normalise_plate
from services.bootstrap import open_database
from services.db.alert_tables import AlertRow, WeighingRow
from services.db.archive_tables import ArchivedEventRow
from services.gates.loader import (
    GateConfigError,
    configured_gates,
    get_gate,
    require_default_gate,
)
from services.replay import compare, kpis, report
from services.replay.closing import close_lanes
from services.replay.closures import Closure, described, for_range, without_a_lane
from services.replay.inputs import ReplayInputs, decision_line, from_archive, from_kafka
from services.replay.sandbox import SandboxResult, run_sandbox
from services.replay.whatif import WhatIf, load_what_if, recorded
from services.runtime.settings import Settings
from services.workers.decider import ClockWindow
from streams.clients import consumer_kwargs
from streams.topics import CONTROLLER_ACTIONS
from streams.weigh import WeighInMotionV1

log = logging.getLogger(__name__)

DEFAULT_WARM_UP = timedelta(hours=24)


@dataclass(frozen=True)
class ReplayOutcome:
    events: int
    decisions: int
    exact_differences: int | None  # against the published decisions (recorded policy only)
    trucks_changed: int
    # trucks decided with no manifest although one for their plate is stored now (it came
    # after the decision; the replay, like the live run, did not know it)
    without_manifest_known_now: int
    wall_s: float
    files: tuple[Path, ...]
    # what the lane controllers did in the range, which the replay does not do again
    # (`controller_actions`): a reason for differences, said in the summary
    controllers: dict[str, int] = field(default_factory=dict)
    # archived inputs of the range that no live batch handled, so not replayed
    not_handled_live: int = 0
    # what the what-if's lane closures leave with no lane (services/replay/closures.py)
    without_a_lane: tuple[str, ...] = ()


class ProgressLine:
    """`replay: 1,234/5,678 batches (21%) 3.2 s` on one line of `stream`, at most 5 a second."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream, self.started, self.last = stream, time.monotonic(), 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 0.2:
            return
        self.last = now
        self.stream.write(
            f"\rreplay: {done:,}/{total:,} batches ({done * 100 // max(total, 1)}%) "
            f"{now - self.started:.1f} s" + ("\n" if done >= total else "")
        )
        self.stream.flush()


async def load_inputs(
    settings: Settings,
    *,
    start: datetime,
    end: datetime,
    gate_id: str | None,
    source: str,
    warm_up: timedelta = timedelta(0),
) -> ReplayInputs:
    gates = configured_gates(settings.gates_dir)
    only = [get_gate(gate_id, gates)] if gate_id else None
    warm_from = start - warm_up
    async with open_database(settings.database) as sessions:
        if source == "kafka":
            if settings.kafka.bootstrap is None:
                raise SystemExit("--source kafka needs BORDERFLOW_KAFKA_BOOTSTRAP")
            kwargs = consumer_kwargs(settings.kafka, settings.kafka.bootstrap)
            return await from_kafka(
                sessions, kwargs, start=start, end=end, gates=only, warm_from=warm_from
            )
        return await from_archive(sessions, start=start, end=end, gates=only, warm_from=warm_from)


async def recorded_weighings(
    settings: Settings, *, start: datetime, end: datetime
) -> tuple[WeighInMotionV1, ...]:
    """The weigh-in-motion measures stored for [start - the rules' look-back, end): the
    overweight rule's input (issue 22), all known to the sandbox from its start."""
    async with open_database(settings.database) as sessions, sessions() as session:
        rows = await session.scalars(
            select(WeighingRow)
            .where(WeighingRow.captured_at >= start - timedelta(hours=3))
            .where(WeighingRow.captured_at < end)
            .order_by(WeighingRow.captured_at, WeighingRow.event_id)
        )
        return tuple(WeighInMotionV1.model_validate(r.payload) for r in rows)


async def controller_actions(
    settings: Settings, *, start: datetime, end: datetime
) -> dict[str, int]:
    """What the lane controllers did with event times in [start, end): their control-room
    actions (hold, release, reassign, manifest picks, lane closures; archived on
    `borderflow.controller-actions`) and the alerts raised then that a controller
    acknowledged, escalated or dismissed. The replay does not do them again (found by a
    stranger's try: one hold, one release and one dismissed alert made 30 differences, and
    nothing said why), so they are counted for the summary."""
    async with open_database(settings.database) as sessions, sessions() as session:
        actions = await session.scalar(
            select(func.count())
            .select_from(ArchivedEventRow)
            .where(ArchivedEventRow.topic == CONTROLLER_ACTIONS.name)
            .where(ArchivedEventRow.event_time >= start, ArchivedEventRow.event_time < end)
        )
        alerts = await session.scalar(
            select(func.count())
            .select_from(AlertRow)
            .where(AlertRow.status_by.is_not(None))
            .where(AlertRow.raised_at >= start, AlertRow.raised_at < end)
        )
    return {"actions": int(actions or 0), "alerts_acted_on": int(alerts or 0)}


def write_alerts(out: Path, alerts: tuple[dict[str, Any], ...]) -> Path:
    """DIR/alerts.jsonl: the risk alerts the replay raised, in the order raised."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "alerts.jsonl"
    path.write_text("".join(json.dumps(a, sort_keys=True) + "\n" for a in alerts), "utf-8")
    return path


def in_range(
    decisions: tuple[dict[str, Any], ...], start: datetime, end: datetime, *, at: str = "decided_at"
) -> tuple[dict[str, Any], ...]:
    """The decisions made (alerts raised: `at="raised_at"`) in [start, end); the warm-up's
    are not the range's."""
    return tuple(d for d in decisions if start <= datetime.fromisoformat(d[at]) < end)


async def replay(
    settings: Settings,
    *,
    start: datetime,
    end: datetime,
    out: Path,
    gate_id: str | None = None,
    policy_file: Path | None = None,
    source: str = "archive",
    progress: ProgressLine | None = None,
    warm_up: timedelta = DEFAULT_WARM_UP,
) -> ReplayOutcome:
    """Replay [start, end) after a warm-up of the `warm_up` before it (exact when the gate
    was idle at its start, or when it reaches back to the start of the recording)."""
    started = time.monotonic()
    gates = configured_gates(settings.gates_dir)
    if gate_id is None:  # the summary's gate and the report's clock: the system's default
        require_default_gate(settings.gate_id, gates, settings.gates_dir)
    scenario: WhatIf = (
        load_what_if(policy_file, gates, gates_dir=settings.gates_dir)
        if policy_file is not None
        else recorded(gates)
    )
    source_name = policy_file.name if policy_file is not None else ""
    closures = for_range(scenario.closures, start=start, end=end, source=source_name)
    inputs = await load_inputs(
        settings, start=start, end=end, gate_id=gate_id, source=source, warm_up=warm_up
    )
    if gate_id is not None and not (inputs.batches or inputs.recorded or inputs.not_handled_live):
        hours = f"{warm_up.total_seconds() / 3600:g}"
        raise GateConfigError(  # was "events": 0 and empty files, status 0, without a word
            "--gate",
            [
                (
                    "",
                    f"nothing of gate {gate_id} archived from {start.isoformat()} to "
                    f"{end.isoformat()} (event time, and the warm-up's {hours} hours before): "
                    "the range's records are another gate's; without --gate the replay "
                    "takes every gate's",
                )
            ],
        )
    strangers = sorted({str(d.get("gate_id")) for d in inputs.recorded} - set(scenario.gates))
    if strangers:  # its reads would all be refused: 0 decisions, every truck a difference
        raise GateConfigError("the archive", [("", _no_gate_file(strangers, settings))])
    weighings = await recorded_weighings(settings, start=start - warm_up, end=end)
    closed = close_lanes(inputs, closures, source=source_name)
    # the live decider's door for plate reads: at the defaults, the reads a decider run with
    # a wider BORDERFLOW_READS_MAX_AHEAD_S took were refused here, their trucks "replayed":
    # null (found by an operator's try, 2026-12-06)
    window = ClockWindow.of(settings.reads_max_ahead_s, settings.reads_max_behind_s)
    result = await run_sandbox(
        closed.inputs,  # the recorded inputs, and the closures' lane events
        gates=scenario.gates,
        policy=scenario.policy,
        workdir=out.parent if out.parent.exists() else None,
        progress=progress,
        weighings=weighings,
        clock_window=window,
    )
    baseline: tuple[dict[str, Any], ...] = inputs.recorded
    label = "published decisions"
    if not baseline:  # nothing published in the range (e.g. a simulated recording)
        label = "replay under the recorded policy"
        baseline = (
            result.decisions
            if policy_file is None
            else (
                await run_sandbox(
                    inputs, gates=gates, policy=recorded(gates).policy, clock_window=window
                )
            ).decisions
        )
    baseline = in_range(baseline, start, end)
    result = replace(result, decisions=in_range(result.decisions, start, end))
    acted = (
        await controller_actions(settings, start=start - warm_up, end=end)
        if source == "archive"
        else {}
    )
    wall = time.monotonic() - started
    outcome = write_outputs(
        out,
        inputs=inputs,
        result=result,
        baseline=baseline,
        baseline_label=label,
        scenario=scenario,
        gate_id=gate_id or settings.gate_id,
        start=start,
        end=end,
        wall_s=wall,
        exact=policy_file is None and bool(inputs.recorded),
        warm_up=warm_up,
        closures=closed_summary(closures, scenario, closed.set_aside),
    )
    return replace(
        outcome,
        controllers=acted,
        without_a_lane=tuple(without_a_lane(closures, scenario.gates)),
    )


def _no_gate_file(gate_ids: Sequence[str], settings: Settings) -> str:
    """Why a recording of `gate_ids` cannot be replayed with the gates configured here."""
    gates = configured_gates(settings.gates_dir)
    where = "packaged with borderflow" if settings.gates_dir is None else f"in {settings.gates_dir}"
    return (
        f"the live run decided trucks at gate {', '.join(gate_ids)} in this range, and no gate "
        f"file {where} has it (known: {', '.join(sorted(gates))}): set BORDERFLOW_GATES_DIR "
        "to the gate files it ran with and BORDERFLOW_GATE_ID to its gate (`borderflow up "
        "--side CN` ran Youyiguan's: services/gates/cn, youyiguan), or give --gate"
    )


def closed_summary(closures: Sequence[Closure], scenario: WhatIf, set_aside: int) -> dict[str, Any]:
    """The summary's lines of the what-if's lane closures (none without)."""
    if not closures:
        return {}
    return {
        "lanes closed (what-if)": "; ".join(described(closures, scenario.gates)),
        "recorded lane openings/closings inside them, set aside": set_aside,
        "left with no lane (refused, as live)": "; ".join(without_a_lane(closures, scenario.gates))
        or "none",
    }


def write_outputs(
    out: Path,
    *,
    inputs: ReplayInputs,
    result: SandboxResult,
    baseline: tuple[dict[str, Any], ...],
    baseline_label: str,
    scenario: WhatIf,
    gate_id: str,
    start: datetime,
    end: datetime,
    wall_s: float,
    exact: bool,
    warm_up: timedelta = timedelta(0),
    closures: dict[str, Any] | None = None,
) -> ReplayOutcome:
    out.mkdir(parents=True, exist_ok=True)
    # the range's alerts, as its decisions (found by a stranger's try: the warm-up's too)
    write_alerts(out, in_range(result.alerts, start, end, at="raised_at"))
    gate = scenario.gates.get(gate_id)
    decisions = out / "decisions.jsonl"
    decisions.write_text(
        "".join(decision_line(d) + "\n" for d in result.decisions),  # in the order made
        encoding="utf-8",
    )
    diff = compare.truck_diff(baseline, result.decisions)
    diff_file = out / "diff.jsonl"
    diff_file.write_text("".join(json.dumps(d, sort_keys=True) + "\n" for d in diff))
    differences = compare.exact_differences(baseline, result.decisions) if exact else None
    late = compare.without_manifest_known_now(
        result.decisions, (normalise_plate(v.manifest.tractor_plate) for v in inputs.manifests)
    )
    before, after = kpis.kpis(baseline, gate=gate), kpis.kpis(result.decisions, gate=gate)
    summary = {
        "range": f"{start.isoformat()} to {end.isoformat()}",
        "warm-up": f"from {(start - warm_up).isoformat()} (its decisions left out)",
        "gate": gate_id,
        "policy": f"{scenario.name} ({scenario.policy_name})",
        "compared with": baseline_label,
        "events replayed": inputs.events,
        "batches": len(inputs.batches),
        "batch boundaries": "as recorded" if inputs.batches_recorded else "rebuilt (none recorded)",
        "exact differences": "-" if differences is None else len(differences),
        "trucks whose decision changed": len(diff),
        "decided without a manifest that exists now": len(late),
        "archived inputs no live batch handled (not replayed)": inputs.not_handled_live,
        **(closures or {}),
        # not the run's wall time: it is on the printed summary (wall_s), and here it made
        # kpis.json and report.html differ between two runs of the same replay
    }
    comparison = kpis.comparison(before, after)
    kpi_file = out / "kpis.json"
    kpi_file.write_text(
        json.dumps(
            {
                "summary": summary,
                "recorded": before,
                "replayed": after,
                "comparison": comparison,
                "exact_differences": differences,
            },
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )
    html_file = out / "report.html"
    images = report.charts(baseline, result.decisions, gate=gate)
    html_file.write_text(
        report.render(
            title=f"borderflow replay: {scenario.name}",
            summary=summary,
            comparison=comparison,
            diff=diff,
            images=images,
            utc_offset=gate.utc_offset if gate is not None else timedelta(0),
        ),
        encoding="utf-8",
    )
    return ReplayOutcome(
        events=inputs.events,
        decisions=len(result.decisions),
        exact_differences=None if differences is None else len(differences),
        trucks_changed=len(diff),
        without_manifest_known_now=len(late),
        wall_s=wall_s,
        files=(decisions, out / "alerts.jsonl", diff_file, kpi_file, html_file),
        not_handled_live=inputs.not_handled_live,
    )
