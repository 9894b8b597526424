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

from services.archive.records import ArchivedRecord
from services.archive.store import archive
from services.bootstrap import open_database
from services.cli.main import main
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


async def _archive_one(settings: DatabaseSettings, at: datetime) -> None:
    record = ArchivedRecord(
        topic="borderflow.plate-reads",
        partition=0,
        offset=0,
        timestamp_ms=int(at.timestamp() * 1000),
        key=b"hn-exp-gate-1",
        value=b"{}",
        headers=(),
        event_id="r-1",
        event_time=at,
    )
    async with open_database(settings) as sessions, sessions.begin() as session:
        assert await archive(session=session, records=[record]) == 1
