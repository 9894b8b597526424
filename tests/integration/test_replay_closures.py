"""`borderflow replay --policy` with a what-if that closes lanes, on a recorded run of the
real system (which closed one busy lane for an hour itself): the closed lanes get no truck
while closed, the diff and the report show the trucks moved, the summary names the
closures and what they leave with no lane; the same bytes run to run; a closure outside the
range is refused (the CLI as typed, on SQLite: the closures are the sandbox's, in memory,
whatever the database)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from services.cli.main import main
from services.replay.compare import latest
from services.runtime.settings import DatabaseSettings
from tests.integration.replay_recording import START, lines, record_run

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

FROM, TO = START + timedelta(minutes=3), START + timedelta(minutes=12)  # 07:03-07:12 local
CLOSED = {"HN-E1", "HN-E2", "HN-E3"}
WHAT_IF = """
# what if HN-E1 to HN-E3 had been closed from 07:03 to 07:12, and HN-E12 all day?
[[closures]]
ids = ["HN-E1", "HN-E2", "HN-E3"]
from = 2026-11-24T07:03:00+07:00
to = 2026-11-24T07:12:00+07:00
[[closures]]
ids = ["HN-E12"]
"""


def _at(raw: str) -> datetime:
    return datetime.fromisoformat(raw)


async def test_a_what_if_that_closes_lanes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}")
    recording = await record_run(tmp_path, database)
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", database.url)
    policy = tmp_path / "closed.toml"
    policy.write_text(WHAT_IF, encoding="utf-8")
    span = ["--from", recording.start.isoformat(), "--to", recording.end.isoformat()]

    async def replay(out: str, *more: str) -> tuple[int, str]:
        argv = ["replay", *span, "--out", str(tmp_path / out), *more]
        status = await asyncio.to_thread(main, argv)
        return status, capsys.readouterr().err

    status, _ = await replay("same")
    assert status == 0
    status, err = await replay("closed", "--policy", str(policy))
    assert status == 0, err
    # HN-E12 is the only export lane for hazmat: said, and such trucks are refused as live
    assert (
        "borderflow replay: 2026-11-24 06:00 to 2026-11-25 07:00 (UTC+07:00): no open export "
        "lane takes hazmat cargo (green, yellow, red; closed: HN-E12): such trucks are "
        "refused, as live" in err
    )
    decisions = lines(tmp_path / "closed" / "decisions.jsonl")
    assert not [d for d in decisions if d.get("lane_id") == "HN-E12"]
    while_closed = [
        d for d in decisions if d.get("lane_id") in CLOSED and FROM <= _at(d["decided_at"]) < TO
    ]
    assert while_closed == []
    standing = [
        d
        for d in latest(decisions).values()
        if d.get("lane_id") in CLOSED and FROM < _at(d["expected_start_at"]) < TO
    ]
    assert standing == []
    recorded = latest(lines(tmp_path / "same" / "decisions.jsonl"))
    diff = {d["visit_id"]: d for d in lines(tmp_path / "closed" / "diff.jsonl")}
    moved = [v for v, d in recorded.items() if d.get("lane_id") in CLOSED and v in diff]
    assert len(moved) > 5
    seen_then = [v for v in moved if FROM <= _at(diff[v]["seen_at"]) < TO]
    assert seen_then and all(diff[v]["replayed"]["lane_id"] not in CLOSED for v in seen_then)
    kpis = json.loads((tmp_path / "closed" / "kpis.json").read_text())
    summary = kpis["summary"]
    assert summary["trucks whose decision changed"] == len(diff) > 5
    assert summary["lanes closed (what-if)"] == (
        "HN-E1, HN-E2, HN-E3: 2026-11-24 07:03 to 07:12 (UTC+07:00); "
        "HN-E12: 2026-11-24 06:00 to 2026-11-25 07:00 (UTC+07:00)"
    )
    assert summary["left with no lane (refused, as live)"].startswith("2026-11-24 06:00 to ")
    page = (tmp_path / "closed" / "report.html").read_text()
    assert "lanes closed (what-if)" in page and "HN-E1, HN-E2, HN-E3: 2026-11-24 07:03" in page
    # the same bytes run to run
    status, _ = await replay("again", "--policy", str(policy))
    for name in ("decisions.jsonl", "diff.jsonl", "kpis.json", "report.html"):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "closed" / name).read_bytes()

    # a closure on another day closes nothing in the range: refused, nothing replayed
    policy.write_text(WHAT_IF.replace("2026-11-24T07", "2026-12-24T07"), encoding="utf-8")
    status, err = await replay("elsewhere", "--policy", str(policy))
    assert status == 2
    assert err.startswith(
        "borderflow replay: closed.toml: closures[0]: 2026-12-24T00:03:00+00:00 to "
        "2026-12-24T00:12:00+00:00 closes nothing in the replayed range"
    )
    assert not (tmp_path / "elsewhere").exists()
