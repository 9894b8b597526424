"""`--help` of the archive commands says how to write --from and --to (found by an analyst's
try, 2026-12-06: `borderflow replay --help` showed `--from START` and `--to END` with no word
of the format, which is refused without its UTC offset, nor of --source)."""

from __future__ import annotations

import pytest

from services.cli.main import main


@pytest.mark.parametrize("command", [["replay"], ["archive", "export"], ["redrive"]])
def test_the_help_says_how_to_write_a_time(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "ISO 8601 with its UTC offset, e.g. 2026-11-24T00:00:00+07:00" in said, said
    assert "event time" in said, said


def test_the_replay_help_says_what_each_source_is(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["replay", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert "archive (default): the event archive in the database" in said, said
    assert "kafka: the topics of the broker at BORDERFLOW_KAFKA_BOOTSTRAP" in said, said
