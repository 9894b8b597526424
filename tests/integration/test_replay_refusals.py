"""An analyst's mistakes with the archive, through the CLI as typed (`main(argv)`), on SQLite.
Found by a stranger's try: a database without the archive (the default `./var/borderflow.db`
is relative to the folder one runs in) gave a Python traceback, and left an empty database
file behind; a replay of a range with nothing archived wrote empty files and exited 0
without a word."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

import services.gates
from services.archive.records import ArchivedRecord
from services.archive.store import archive
from services.bootstrap import open_database
from services.cli.main import main
from services.db.engine import create_engine
from services.db.migrate import MIGRATIONS, to_revision
from services.db.tables import DecisionRow
from services.replay.run import ReplayOutcome
from services.runtime.settings import DatabaseSettings

pytestmark = [pytest.mark.integration]

DAY, NEXT_DAY = "2026-11-24T00:00:00+07:00", "2026-11-25T00:00:00+07:00"


def _commands(tmp_path: Path) -> list[list[str]]:
    return [
        ["replay", "--out", str(tmp_path / "out")],
        ["archive", "export", "--out", str(tmp_path / "day.jsonl")],
        ["redrive", "--dry-run"],
    ]


def test_a_database_that_is_not_there_or_holds_no_archive_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "var" / "borderflow.db"
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    for command in _commands(tmp_path):
        assert main([*command, "--from", DAY, "--to", NEXT_DAY]) == 2
        err = capsys.readouterr().err
        assert f"no database at {database}" in err and "BORDERFLOW_DATABASE_URL" in err, err
        assert "Traceback" not in err
    assert not database.parent.exists()  # nothing made on the way
    assert not (tmp_path / "out").exists() and not (tmp_path / "day.jsonl").exists()

    database.parent.mkdir()
    database.touch()  # a database, but not the live system's
    for command in _commands(tmp_path):
        assert main([*command, "--from", DAY, "--to", NEXT_DAY]) == 2
        err = capsys.readouterr().err
        assert "holds no event archive" in err and "Traceback" not in err, err


def test_a_replay_of_a_range_with_nothing_archived_says_what_the_archive_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}"
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", url)
    assert main(["migrate"]) == 0
    asyncio.run(_archive_one(DatabaseSettings(url=url), datetime(2026, 11, 24, 3, tzinfo=UTC)))

    out = tmp_path / "out"
    a_year_early = ["--from", "2025-11-24T00:00:00+07:00", "--to", "2025-11-25T00:00:00+07:00"]
    assert main(["replay", "--out", str(out), *a_year_early]) == 2
    err = capsys.readouterr().err
    assert (
        "nothing archived from 2025-11-23T17:00:00Z to 2025-11-24T17:00:00Z (event time); "
        "the archive holds 1 records from 2026-11-24T03:00:00Z to 2026-11-24T03:00:00Z" in err
    ), err
    assert not out.exists()


def test_an_export_or_redrive_of_a_range_with_nothing_archived_or_reversed_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found as an analyst on a day recorded 2026-02-28: an export of a day with no data
    wrote an empty file, "exported 0 records", status 0 (the replay of it is refused with
    what the archive holds); `redrive --from` after `--to` answered "would send 0 records",
    status 0 (export and replay refuse it)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}"
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", url)
    assert main(["migrate"]) == 0
    asyncio.run(_archive_one(DatabaseSettings(url=url), datetime(2026, 2, 28, 17, tzinfo=UTC)))
    capsys.readouterr()

    a_day_off = ["--from", "2026-05-01T00:00:00+07:00", "--to", "2026-05-02T00:00:00+07:00"]
    out = tmp_path / "day.jsonl"
    for command in (["archive", "export", "--out", str(out)], ["redrive", "--dry-run"]):
        assert main([*command, *a_day_off]) == 2, command
        err = capsys.readouterr().err
        assert (
            "nothing archived from 2026-04-30T17:00:00Z to 2026-05-01T17:00:00Z (event time); "
            "the archive holds 1 records from 2026-02-28T17:00:00Z" in err
        ), err
    assert not out.exists()

    reversed_ = ["--from", "2026-03-02T00:00:00+07:00", "--to", "2026-02-28T00:00:00+07:00"]
    assert main(["redrive", "--dry-run", *reversed_]) == 2
    assert "borderflow redrive: --to must be after --from" in capsys.readouterr().err

    # the day recorded: exported, and counted for a redrive
    the_day = ["--from", "2026-03-01T00:00:00+07:00", "--to", "2026-03-02T00:00:00+07:00"]
    assert main(["archive", "export", "--out", str(out), *the_day]) == 0
    assert main(["redrive", "--dry-run", *the_day]) == 0
    assert "would send 1 records" in capsys.readouterr().out


def test_differences_after_a_warm_up_shorter_than_the_recording_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by a stranger's try: `--warm-up 0` on a range in the middle of a recorded day
    gave "exact_differences": 277 and exit 1, and nothing said that the replay began
    without the boards and visits the live run had then (docs/replay.md, Limits)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}"
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", url)
    assert main(["migrate"]) == 0
    settings = DatabaseSettings(url=url)
    asyncio.run(_archive_one(settings, datetime(2026, 11, 24, 3, tzinfo=UTC)))
    asyncio.run(_archive_one(settings, datetime(2026, 11, 24, 10, tzinfo=UTC), offset=1))
    differing = ReplayOutcome(
        events=1, decisions=1, exact_differences=5, trucks_changed=1,
        without_manifest_known_now=0, wall_s=0.0, files=(),
        controllers={"actions": 0, "alerts_acted_on": 0},
    )  # fmt: skip

    async def replayed(*args: object, **kwargs: object) -> ReplayOutcome:
        return differing

    monkeypatch.setattr("services.replay.run.replay", replayed)
    out = ["--out", str(tmp_path / "out"), "--to", "2026-11-25T00:00:00Z"]
    assert main(["replay", *out, "--from", "2026-11-24T09:30:00Z", "--warm-up", "2"]) == 1
    err = capsys.readouterr().err
    assert (
        "the warm-up began at 2026-11-24T07:30:00Z, after the archive's first event "
        "(2026-11-24T03:00:00Z)" in err
    ), err
    assert "--warm-up 7 reaches back to it" in err, err

    # a warm-up from the start of the recording: the differences are not the warm-up's
    assert main(["replay", *out, "--from", "2026-11-24T09:30:00Z", "--warm-up", "7"]) == 1
    assert "warm-up" not in capsys.readouterr().err


CN_GATES = Path(services.gates.__file__).parent / "cn"  # `borderflow up --side CN`'s


def test_a_recording_of_a_gate_the_replay_has_no_file_for_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found replaying `borderflow up --side CN` (Youyiguan, recorded 2025-12-31) with the
    packaged gate files: "decisions": 0, 1339 exact differences, status 1, and no word that
    every read was for a gate the replay did not know."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}"
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", url)
    assert main(["migrate"]) == 0
    at = datetime(2025, 12, 31, 15, 40, tzinfo=UTC)  # 23:40 at Youyiguan (UTC+08:00)
    asyncio.run(_archive_one(DatabaseSettings(url=url), at))
    asyncio.run(_decided_at(DatabaseSettings(url=url), "youyiguan", at))

    out = tmp_path / "out"
    span = ["--from", "2025-12-31T00:00:00+08:00", "--to", "2026-01-02T00:00:00+08:00"]
    assert main(["replay", "--out", str(out), *span]) == 2
    err = capsys.readouterr().err
    assert (
        "the live run decided trucks at gate youyiguan in this range, and no gate file "
        "packaged with borderflow has it (known: huu-nghi): set BORDERFLOW_GATES_DIR" in err
    ), err
    assert "Traceback" not in err and not out.exists()

    # with Youyiguan's gate files but the default gate left at Huu Nghi's: the summary
    # named huu-nghi and the report drew Youyiguan's day in UTC, "gate time (UTC)"
    monkeypatch.setenv("BORDERFLOW_GATES_DIR", str(CN_GATES))
    assert main(["replay", "--out", str(out), *span]) == 2
    err = capsys.readouterr().err
    assert "BORDERFLOW_GATE_ID: unknown gate 'huu-nghi' (known: youyiguan)" in err, err
    assert not out.exists()


def test_a_replay_of_a_gate_with_nothing_in_the_range_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found replaying Huu Nghi's 2026-02-28 with `--gate youyiguan` (Youyiguan's gate
    files set): "events": 0, "decisions": 0, empty files, status 0, and no word, where a
    range with nothing archived is refused."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}"
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", url)
    assert main(["migrate"]) == 0
    at = datetime(2026, 2, 28, 17, 0, tzinfo=UTC)
    asyncio.run(_archive_one(DatabaseSettings(url=url), at))  # a read at Huu Nghi's camera
    asyncio.run(_decided_at(DatabaseSettings(url=url), "huu-nghi", at))
    monkeypatch.setenv("BORDERFLOW_GATES_DIR", str(CN_GATES))
    monkeypatch.setenv("BORDERFLOW_GATE_ID", "youyiguan")
    capsys.readouterr()

    out = tmp_path / "out"
    span = ["--from", "2026-02-28T00:00:00+07:00", "--to", "2026-03-02T00:00:00+07:00"]
    assert main(["replay", "--out", str(out), "--gate", "youyiguan", *span]) == 2
    err = capsys.readouterr().err
    assert (
        "--gate: nothing of gate youyiguan archived from 2026-02-28T00:00:00+07:00 to "
        "2026-03-02T00:00:00+07:00 (event time, and the warm-up's 24 hours before): the "
        "range's records are another gate's; without --gate the replay takes every gate's"
    ) in err, err
    assert not out.exists()


def test_a_recording_at_an_older_schema_asks_for_a_migrate_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an analyst: a day recorded at 20:16 (schema 0029) replayed at 20:55, after
    migration 0030 (archive_batches.watermark) came in: a 90-line traceback, "no such
    column: archive_batches.watermark"."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}"
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", url)
    assert main(["migrate"]) == 0
    settings = DatabaseSettings(url=url)
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    older = ScriptDirectory(str(MIGRATIONS)).get_revision(head).down_revision
    asyncio.run(_to_revision(settings, str(older)))
    asyncio.run(_archive_one(settings, datetime(2026, 2, 28, 17, tzinfo=UTC)))
    capsys.readouterr()

    day = ["--from", "2026-03-01T00:00:00+07:00", "--to", "2026-03-02T00:00:00+07:00"]
    for command in _commands(tmp_path):
        assert main([*command, *day]) == 2, command
        err = capsys.readouterr().err
        assert f"is at schema {older}, and this borderflow reads schema {head}" in err, err
        assert "borderflow migrate" in err and "Traceback" not in err, err
    assert main(["migrate"]) == 0
    assert main(["archive", "export", "--out", str(tmp_path / "day.jsonl"), *day]) == 0


async def _to_revision(settings: DatabaseSettings, revision: str) -> None:
    engine = create_engine(settings)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(to_revision(revision, down=True))
    finally:
        await engine.dispose()


async def _decided_at(settings: DatabaseSettings, gate_id: str, at: datetime) -> None:
    row = DecisionRow(
        decision_id="d-1", visit_id="v-1", gate_id=gate_id, plate="12C06096",
        manifest_id=None, outcome="needs_review", match_outcome="no_manifest",
        match_score=0.0, match_candidates=[], lane_id=None, carrier_slot=None,
        reason="no manifest", decided_at=at, expected_start_at=None,
        expected_done_at=None, read_event_ids=["r-1"], revision=0, published_at=at,
    )  # fmt: skip
    async with open_database(settings) as sessions, sessions.begin() as session:
        session.add(row)


async def _archive_one(settings: DatabaseSettings, at: datetime, *, offset: int = 0) -> None:
    record = ArchivedRecord(
        topic="borderflow.plate-reads",
        partition=0,
        offset=offset,
        timestamp_ms=int(at.timestamp() * 1000),
        key=b"hn-exp-gate-1",
        value=b"{}",
        headers=(),
        event_id=f"r-{offset + 1}",
        event_time=at,
    )
    async with open_database(settings) as sessions, sessions.begin() as session:
        assert await archive(session=session, records=[record]) == 1
