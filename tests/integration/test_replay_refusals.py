"""An analyst's mistakes with the archive, through the CLI as typed (`main(argv)`), on SQLite.
Found by a stranger's try: a database without the archive (the default `./var/borderflow.db`
is relative to the folder one runs in) gave a Python traceback, and left an empty database
file behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.cli.main import main

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
