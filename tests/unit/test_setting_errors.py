"""A setting an operator got wrong stops the command with one line per setting on stderr,
naming the environment variable and what it takes, status 2, never a traceback or
pydantic's dump (`1 validation error for DatabaseSettings` / `pool_size` / `Input should
be ...` / a link), which named the field rather than the variable (found by installing from
the docs as an operator). A secret given is never echoed back."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from services.cli.main import main as cli_main
from services.runtime.metrics import serve_worker_metrics
from services.runtime.setting_errors import SettingError


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BORDERFLOW_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/bf.db")


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("BORDERFLOW_DATABASE_POOL_SIZE", "0", "='0': Input should be greater than or equal to 1"),
        ("BORDERFLOW_DATABASE_POOL_SIZE", "-1", "='-1': Input should be greater than or equal"),
        ("BORDERFLOW_DATABASE_POOL_SIZE", "five", "='five': Input should be a valid integer"),
        (
            "BORDERFLOW_DATABASE_URL",
            "postgresql+asyncpgg://bf:hunter2@db/bf",
            "='postgresql+asyncpgg://bf:***@db/bf': must use an async driver: "
            "'sqlite+aiosqlite:///path.db' or 'postgresql+asyncpg://user@host/db'",
        ),
        ("BORDERFLOW_API_PORT", "eighty", "='eighty': Input should be a valid integer"),
        ("BORDERFLOW_API_PORT", "99999", "='99999': Input should be less than or equal to 65535"),
        ("BORDERFLOW_METRICS_PORT", "-3", "='-3': Input should be greater than or equal to 0"),
        (
            "BORDERFLOW_KAFKA_SECURITY_PROTOCOL",
            "TLS",
            "='TLS': Input should be 'PLAINTEXT', 'SSL', 'SASL_PLAINTEXT' or 'SASL_SSL'",
        ),
        ("BORDERFLOW_KAFKA_BOOTSTRAP", " ", "=' ': empty; give host:port[,host:port...]"),
        ("BORDERFLOW_KAFKA_SASL_MECHANISM", "FOO", "='FOO': Input should be 'PLAIN', 'SCRAM-SHA"),
        ("BORDERFLOW_KAFKA_CLIENT_ID", "", "='': String should have at least 1 character"),
        ("BORDERFLOW_KAFKA_REQUEST_TIMEOUT_S", "inf", "='inf': Input should be a finite number"),
        ("BORDERFLOW_LOG_LEVEL", "LOUD", "='LOUD': one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("BORDERFLOW_LOG_FORMAT", "xml", "='xml': Input should be 'text' or 'json'"),
        ("BORDERFLOW_CONSUMER_GROUP", "", "='': String should have at least 1 character"),
        ("BORDERFLOW_DRIVERS_SECRET", " ", ": empty; give the same secret to the API and"),
        ("BORDERFLOW_PUBLIC_URL", "ftp://x", "='ftp://x': an http(s) URL with a host"),
    ],
)
def test_a_setting_refused_is_one_line_naming_the_variable(
    variable: str,
    value: str,
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)
    assert cli_main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"borderflow migrate: {variable}{said}"), err
    assert err.count("\n") == 1, err  # one line
    assert "hunter2" not in err


def test_the_api_on_a_port_taken_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was uvicorn's traceback ending in `SystemExit: 3`, once the database was migrated."""
    monkeypatch.setenv("BORDERFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:9")  # never reached
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        monkeypatch.setenv("BORDERFLOW_API_PORT", str(port))
        assert cli_main(["api"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"borderflow api: BORDERFLOW_API_PORT={port}: cannot serve the API on 127.0.0.1:{port}"
    ), err
    assert err.count("\n") == 1, err


def test_a_worker_metrics_port_taken_names_the_setting() -> None:
    """Was `borderflow worker: Address already in use`, which did not say which address."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(SettingError, match=f"^BORDERFLOW_METRICS_PORT={port}: cannot serve"):
            serve_worker_metrics(port, host="127.0.0.1")


def test_a_broker_not_answering_at_start_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A worker started with its broker down exits (status 2) with one line, for whatever
    runs it to start it again; it was BrokerError's traceback, status 1."""
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        bootstrap = f"127.0.0.1:{closed.getsockname()[1]}"
        monkeypatch.setenv("BORDERFLOW_KAFKA_BOOTSTRAP", bootstrap)
        monkeypatch.setenv("BORDERFLOW_KAFKA_REQUEST_TIMEOUT_S", "5")
        assert cli_main(["worker", "decider"]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith(
        f"borderflow worker: BORDERFLOW_KAFKA_BOOTSTRAP={bootstrap}: could not create topics"
    ), err
