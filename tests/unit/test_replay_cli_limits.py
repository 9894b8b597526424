"""Numbers and times the replay commands cannot use are refused in one line, status 2, not
run into a traceback (found by a stranger's try, 2026-12-06: `replay --warm-up 1e9` raised
OverflowError, `--warm-up nan` ValueError; a `--from` at 0001-01-01 in the gate's time,
before year 1 in UTC, made `archive export` and `replay` fail in the database driver with
`date value out of range`; `redrive --rate nan` or `-1` sent unpaced, the option ignored)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.cli.main import main

DAY, NEXT_DAY = "2026-11-24T00:00:00+07:00", "2026-11-25T00:00:00+07:00"


@pytest.fixture
def no_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    return tmp_path


@pytest.mark.parametrize("hours", ["nan", "inf", "1e9", "1e300"])
def test_a_warm_up_that_is_no_number_of_hours_or_reaches_before_year_1_is_refused(
    no_archive: Path, hours: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(no_archive / "out")
    code = main(["replay", "--out", out, "--from", DAY, "--to", NEXT_DAY, "--warm-up", hours])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("borderflow replay: --warm-up"), err
    assert len(err.strip().splitlines()) == 1, err
    assert not Path(out).exists()


def test_a_warm_up_before_year_1_from_the_first_day_is_refused(
    no_archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start = "0001-01-01T12:00:00Z"  # a time there is; its 24 hours of warm-up are not
    code = main(["replay", "--out", str(no_archive / "o"), "--from", start, "--to", NEXT_DAY])
    assert code == 2
    assert "--warm-up 24 hours before 0001-01-01T12:00:00+00:00" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "start", "end"),
    [
        (["archive", "export", "--out", "day.jsonl"], "0001-01-01T00:00:00+07:00", NEXT_DAY),
        (["replay", "--out", "o"], "0001-01-01T00:00:00+07:00", NEXT_DAY),
        (["replay", "--out", "o"], DAY, "9999-12-31T23:59:59-07:00"),
    ],
)
def test_a_time_outside_the_years_1_to_9999_in_utc_is_refused(
    no_archive: Path, command: list[str], start: str, end: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--from", start, "--to", end])
    assert exited.value.code == 2
    assert "is no time in UTC (years 1 to 9999)" in capsys.readouterr().err


@pytest.mark.parametrize("rate", ["nan", "inf", "-1"])
def test_a_redrive_rate_that_is_no_pace_is_refused(
    no_archive: Path, rate: str, capsys: pytest.CaptureFixture[str]
) -> None:
    redrive = ["redrive", "--from", DAY, "--to", NEXT_DAY, "--to-topic", "t", "--dry-run"]
    code = main([*redrive, "--rate", rate])
    assert code == 2
    assert "borderflow redrive: --rate must be 0 (unpaced) or more records a second" in (
        capsys.readouterr().err
    )
