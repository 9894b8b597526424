"""One clock per question (issue 17): decisions use event time only.

- The source check: in `lanes/`, `streams/` and `services/`, only `streams.clock.wall_clock`
  reads the servers' clock (no `datetime.now`, `utcnow`, `today`, `time.time`...), so every
  wall-clock read is visible and can be moved by a test.
- The behaviour check: the live decision code (the decider, run by the replay sandbox on a
  simulated hour of reads and manifests) decides byte for byte the same with the servers'
  clock in 1999 and in 2099; a decision path that read the wall clock would differ. (The
  no-show expiry, which needs bookings, is checked against the wall clock live in
  tests/integration/test_live_bookings.py.)"""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lanes.policy import OrchestratedPolicy
from services.gates.loader import default_gates, get_gate
from services.replay.inputs import ManifestVersion, assemble
from services.replay.sandbox import run_sandbox
from services.simulation.traffic import archived_reads, plan_traffic
from streams import clock

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("lanes", "streams", "services")
ALLOWED = {Path("streams/clock.py")}
WALL_READS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
}
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _wall_reads(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value
        name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
        if (name, node.func.attr) in WALL_READS:
            found.append(f"{path.relative_to(root)}:{node.lineno} {name}.{node.func.attr}()")
    return found


def test_only_streams_clock_reads_the_wall_clock() -> None:
    offenders = [
        hit
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.relative_to(ROOT) not in ALLOWED
        for hit in _wall_reads(path)
    ]
    assert offenders == [], "read the wall clock through streams.clock.wall_clock():\n" + "\n".join(
        offenders
    )


def test_the_source_check_sees_a_wall_clock_read(tmp_path: Path) -> None:
    """The sample lies outside the checkout: a test scanning `services/` at the same time
    (pytest-xdist runs files side by side) must never see it."""
    sample = tmp_path / "services" / "_clock_probe_sample.py"
    sample.parent.mkdir()
    sample.write_text("import datetime\nx = datetime.datetime.now()\n", encoding="utf-8")
    assert _wall_reads(sample, tmp_path) == ["services/_clock_probe_sample.py:2 datetime.now()"]


def _inputs(trucks: int = 150) -> object:
    gates = default_gates()
    plan = plan_traffic(gate=get_gate("huu-nghi", gates), trucks=trucks, start=START, seed=3)
    records = archived_reads(plan.reads)
    versions = [
        ManifestVersion(m, "simulator", START - timedelta(hours=1), seq)
        for seq, m in enumerate(plan.manifests, start=1)
    ]
    return assemble(records, [], versions, fallback_batch=40)


@pytest.mark.parametrize("servers_year", [1999, 2099])
async def test_decisions_do_not_move_with_the_servers_clock(
    servers_year: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = _inputs()
    gates = default_gates()
    baseline = await run_sandbox(inputs, gates=gates, policy=OrchestratedPolicy(), workdir=tmp_path)  # type: ignore[arg-type]
    moved = datetime(servers_year, 6, 1, tzinfo=UTC)
    monkeypatch.setattr(clock, "wall_clock", lambda: moved)
    shifted = await run_sandbox(inputs, gates=gates, policy=OrchestratedPolicy(), workdir=tmp_path)  # type: ignore[arg-type]
    lines = [json.dumps(d, sort_keys=True) for d in baseline.decisions]
    assert len(lines) > 50
    assert sum(d["outcome"] == "assigned" for d in baseline.decisions) > 50
    assert [json.dumps(d, sort_keys=True) for d in shifted.decisions] == lines
