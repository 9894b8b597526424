"""A database the command cannot connect to, named by BORDERFLOW_DATABASE_URL, stops it
with one line naming the setting (password masked) and the server's reason, status 2: a
database or a role that does not exist was a traceback from the first query (status 1), a
host not found or a port closed the bare reason (`borderflow migrate: Name or service not
known`), with no word of which setting (found by installing from the docs as an operator)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from services.cli.main import main as cli_main
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.postgres


def _closed_port() -> tuple[socket.socket, int]:
    held = socket.socket()
    held.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    return held, held.getsockname()[1]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"database": "borderflow_no_such_database"}, 'database "borderflow_no_such_database"'),
        ({"username": "borderflow_no_such_role"}, 'role "borderflow_no_such_role"'),
        ({"host": "no-such-host.invalid", "password": "hunter2"}, ""),
        ({"host": "127.0.0.1", "port": "closed"}, ""),
    ],
)
def test_a_database_not_reached_is_one_line_naming_the_setting(
    change: dict[str, str],
    reason: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    held, port = _closed_port()
    with held:
        if change.get("port") == "closed":
            change = {**change, "port": str(port)}
        url = make_url(POSTGRES_URL).set(
            **{k: int(v) if k == "port" else v for k, v in change.items()}
        )
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("BORDERFLOW_DATABASE_URL", url.render_as_string(hide_password=False))
        assert cli_main(["migrate"]) == 2
    err = capsys.readouterr().err
    shown = url.render_as_string()  # the password masked
    assert err.startswith(f"borderflow migrate: BORDERFLOW_DATABASE_URL={shown}: cannot connect: ")
    assert reason in err
    assert err.count("\n") == 1, err
    assert "hunter2" not in err


def test_a_schema_that_does_not_exist_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Found 2026-12-06 by an operator on PostgreSQL: `BORDERFLOW_DATABASE_SCHEMA_NAME=h3schema
    borderflow migrate`, the schema not made yet, ended in a 100-line traceback whose last
    line was 'current transaction is aborted' (the advisory unlock after the failed
    migration), status 1, with no word of the schema or the setting."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", POSTGRES_URL)
    monkeypatch.setenv("BORDERFLOW_DATABASE_SCHEMA_NAME", "borderflow_no_such_schema")
    assert cli_main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "borderflow migrate: BORDERFLOW_DATABASE_SCHEMA_NAME=borderflow_no_such_schema: "
    ), err
    assert "CREATE SCHEMA borderflow_no_such_schema" in err
    assert err.count("\n") == 1, err
