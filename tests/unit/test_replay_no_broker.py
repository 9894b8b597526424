"""`replay --source kafka` and `redrive --dlq` with no broker to read are refused, naming
the bootstrap, status 2 (found by an analyst's try, 2026-12-06: after `borderflow up` stopped, whose
embedded broker keeps nothing, `--source kafka` with BORDERFLOW_KAFKA_BOOTSTRAP set ended in
a KafkaConnectionError traceback and 'Unclosed AIOKafkaConsumer', and without it was
'--source kafka needs BORDERFLOW_KAFKA_BOOTSTRAP', status 1, unlike the other refusals)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from services.cli.main import main

DAY, NEXT_DAY = "2026-11-24T00:00:00+07:00", "2026-11-25T00:00:00+07:00"


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A bootstrap no broker answers at (a port just freed)."""
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bootstrap = f"127.0.0.1:{port}"
    monkeypatch.setenv("BORDERFLOW_KAFKA_BOOTSTRAP", bootstrap)
    return bootstrap


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["replay", "--from", DAY, "--to", NEXT_DAY, "--source", "kafka"], "borderflow replay"),
        (["redrive", "--dlq", "borderflow.plate-reads.dlq", "--dry-run"], "borderflow redrive"),
    ],
)
def test_a_broker_that_does_not_answer_is_named(
    nowhere: str,
    tmp_path: Path,
    command: list[str],
    said: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    extra = ["--out", str(out)] if command[0] == "replay" else []
    assert main([*command, *extra]) == 2
    err = capsys.readouterr().err
    # the client's own log line ('Unable connect to ...: Connect call failed') may come first
    assert (
        err.strip().splitlines()[-1].startswith(f"{said}: no Kafka broker answers at {nowhere}")
    ), err
    assert "Traceback" not in err and "Unclosed" not in err, err
    assert not out.exists()


def test_source_kafka_without_a_bootstrap_is_refused_like_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    monkeypatch.delenv("BORDERFLOW_KAFKA_BOOTSTRAP", raising=False)
    out = tmp_path / "out"
    code = main(["replay", "--from", DAY, "--to", NEXT_DAY, "--source", "kafka", "--out", str(out)])
    assert code == 2
    assert capsys.readouterr().err.startswith(
        "borderflow replay: --source kafka needs BORDERFLOW_KAFKA_BOOTSTRAP"
    )
    assert not out.exists()
