"""`borderflow replay` on a recorded run: with the recorded policy, zero differences and a
report; with a what-if (one export lane for perishables only), a diff of exactly the trucks
whose decision differs, every truck the rule turns away among them; a what-if restating the
gate file, no difference at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.replay.compare import latest
from services.replay.kpis import is_perishable
from services.replay.run import replay
from services.runtime.settings import DatabaseSettings
from tests.integration.replay_recording import lines, record_run

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

LANE = "HN-E2"
WHAT_IF = f"""
# what if export lane {LANE} took perishable cargo only?
policy = "orchestrated"
[[lanes]]
ids = ["{LANE}"]
accepts = ["perishable"]
"""


async def test_replay_command_and_what_if(
    tmp_path: Path, database_settings: DatabaseSettings
) -> None:
    recording = await record_run(tmp_path, database_settings)
    same = await replay(
        recording.settings, start=recording.start, end=recording.end, out=tmp_path / "same"
    )
    assert same.exact_differences == 0
    assert same.trucks_changed == 0
    kpis = json.loads((tmp_path / "same" / "kpis.json").read_text())
    assert kpis["exact_differences"] == []
    assert kpis["recorded"] == kpis["replayed"]
    assert kpis["recorded"]["assigned"] > 20
    page = (tmp_path / "same" / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == 3
    assert "http://" not in page and "https://" not in page  # self-contained
    assert "<th>KPI</th>" in page

    policy = tmp_path / "perishable-lane.toml"
    policy.write_text(WHAT_IF)
    what_if = await replay(
        recording.settings,
        start=recording.start,
        end=recording.end,
        out=tmp_path / "what-if",
        policy_file=policy,
    )
    recorded = latest(lines(tmp_path / "same" / "decisions.jsonl"))
    replayed = latest(lines(tmp_path / "what-if" / "decisions.jsonl"))
    diff = {d["visit_id"]: d for d in lines(tmp_path / "what-if" / "diff.jsonl")}
    assert what_if.trucks_changed == len(diff) > 0

    # the rule holds: only perishables on the lane
    on_lane = [d for d in replayed.values() if d.get("lane_id") == LANE]
    assert on_lane and all(is_perishable(d) for d in on_lane)
    # every truck the rule turns away is in the diff, moved off the lane
    displaced = [
        v for v, d in recorded.items() if d.get("lane_id") == LANE and not is_perishable(d)
    ]
    assert displaced
    for visit_id in displaced:
        assert visit_id in diff
        assert diff[visit_id]["replayed"]["lane_id"] != LANE
    # the diff lists exactly the trucks whose decision differs
    changed = {
        v
        for v in recorded
        if any(
            recorded[v].get(f) != replayed[v].get(f)
            for f in ("outcome", "lane_id", "carrier_slot", "expected_start_at")
        )
    }
    assert set(diff) == changed
    # the same override restating what the gate file says changes nothing at all: the
    # what-if machinery adds no difference of its own
    noop = tmp_path / "restated.toml"
    noop.write_text(WHAT_IF.replace('["perishable"]', '["general", "container", "perishable"]'))
    restated = await replay(
        recording.settings,
        start=recording.start,
        end=recording.end,
        out=tmp_path / "restated",
        policy_file=noop,
    )
    assert restated.trucks_changed == 0
    assert (tmp_path / "restated" / "decisions.jsonl").read_bytes() == (
        tmp_path / "same" / "decisions.jsonl"
    ).read_bytes()
    assert recorded.keys() == replayed.keys()  # same trucks, same visits
