"""Archived inputs that no live batch holds are counted and said, not dropped in silence
(found by an analyst's try, 2026-12-06: a `borderflow up --speedup 600` on a loaded machine
archived 14,567 plate reads and decided 4,580 of them before Ctrl-C; the replay replayed the
4,580, as it should, but said nothing of the other 9,987, and a range holding only those
gave "decisions": 0, exit 0 and empty files, with no word why)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.archive.records import ArchivedRecord
from services.archive.store import RecordedBatch
from services.gates.loader import default_gates
from services.replay.inputs import assemble
from services.replay.run import write_outputs
from services.replay.sandbox import SandboxResult
from services.replay.whatif import recorded

START = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def archived_read(event_id: str, at: datetime, offset: int) -> ArchivedRecord:
    """A plate read as the archive holds it (also test_replay_range_end's)."""
    value = {"event_id": event_id, "camera_id": "hn-exp-gate-1", "captured_at": at.isoformat()}
    return ArchivedRecord(
        topic="borderflow.plate-reads",
        partition=0,
        offset=offset,
        timestamp_ms=0,
        key=b"k",
        value=json.dumps(value).encode(),
        headers=(),
        event_id=event_id,
        event_time=at,
    )


def test_the_range_s_inputs_in_no_recorded_batch_are_counted() -> None:
    records = [
        archived_read("warm", START - timedelta(hours=1), 0),  # the warm-up's: not the range's
        archived_read("a", START, 1),
        archived_read("a", START, 2),  # redelivered: decided once, in its batch
        archived_read("late-1", START + timedelta(minutes=5), 3),  # the run stopped before these
        archived_read("late-2", START + timedelta(minutes=6), 4),
    ]
    batches = [RecordedBatch(1, "decider", ("a",), START, START, START, 0)]
    inputs = assemble(records, batches, [], decided_from=START)
    assert [[r.event_id for r in b.records] for b in inputs.batches] == [["a"]]
    assert inputs.not_handled_live == 2
    # without recorded boundaries every input is replayed: none is left out
    assert assemble(records, [], [], decided_from=START).not_handled_live == 0


def test_the_summary_says_how_many_were_not_replayed(tmp_path: Path) -> None:
    records = [archived_read("a", START, 0), archived_read("late", START + timedelta(minutes=5), 1)]
    batches = [RecordedBatch(1, "decider", ("a",), START, START, START, 0)]
    outcome = write_outputs(
        tmp_path,
        inputs=assemble(records, batches, [], decided_from=START),
        result=SandboxResult(decisions=(), dead_letters=0, batches=1, alerts=()),
        baseline=(),
        baseline_label="published decisions",
        scenario=recorded(default_gates()),
        gate_id="huu-nghi",
        start=START,
        end=START + timedelta(hours=1),
        wall_s=0.0,
        exact=True,
    )
    assert outcome.not_handled_live == 1
    summary = json.loads((tmp_path / "kpis.json").read_text())["summary"]
    assert summary["archived inputs no live batch handled (not replayed)"] == 1
    assert "archived inputs no live batch handled (not replayed)" in (
        (tmp_path / "report.html").read_text()
    )
