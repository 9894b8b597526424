"""`--help` of each command an operator runs on its own says what it needs: the settings
it reads (an operator installing from the docs found `borderflow migrate --help`,
`worker --help` and `api --help` saying nothing of BORDERFLOW_DATABASE_URL or
BORDERFLOW_KAFKA_BOOTSTRAP, nor how each ends)."""

from __future__ import annotations

import pytest

from services.cli.main import main as cli_main


@pytest.mark.parametrize(
    ("command", "needs"),
    [
        ([], ["BORDERFLOW_DATABASE_URL", "BORDERFLOW_KAFKA_BOOTSTRAP", "docs/configuration.md"]),
        (["migrate"], ["BORDERFLOW_DATABASE_URL", "changes nothing"]),
        (["broker"], ["BORDERFLOW_KAFKA_BOOTSTRAP", "nothing across a restart"]),
        (["worker"], ["BORDERFLOW_KAFKA_BOOTSTRAP", "BORDERFLOW_DATABASE_URL", "status 2"]),
        (["api"], ["BORDERFLOW_KAFKA_BOOTSTRAP", "BORDERFLOW_DATABASE_URL", "BORDERFLOW_API_PORT"]),
        (["simulate-traffic"], ["BORDERFLOW_KAFKA_BOOTSTRAP", "BORDERFLOW_DATABASE_URL"]),
        (["firms"], ["BORDERFLOW_DATABASE_URL"]),
        (["manifests"], ["BORDERFLOW_DATABASE_URL"]),
    ],
)
def test_help_says_what_a_command_needs(
    command: list[str], needs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli_main([*command, "--help"])
    assert exited.value.code == 0
    said = " ".join(capsys.readouterr().out.split())  # argparse wraps the lines
    for need in needs:
        assert need in said, (command, need)
