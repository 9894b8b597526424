"""`borderflow up` (and every command that starts the system) with a person's own gate
files: a file that cannot be used, or a default gate that none of them is, stops it before
anything starts, with the file, the field and the reason, not a traceback (found by a
stranger's try)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from services.cli.main import main

GATE = (Path(__file__).parents[2] / "services/gates/huu-nghi.toml").read_text(encoding="utf-8")


@pytest.fixture
def own_gates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "gates"
    folder.mkdir()
    (folder / "lang-son.toml").write_text(
        GATE.replace('gate_id = "huu-nghi"', 'gate_id = "lang-son"'), encoding="utf-8"
    )
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setenv("BORDERFLOW_GATES_DIR", str(folder))
    monkeypatch.setenv("BORDERFLOW_GATE_ID", "lang-son")
    monkeypatch.setenv("BORDERFLOW_API_PORT", str(port))
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/bf.db")
    monkeypatch.setenv("BORDERFLOW_VAR_DIR", str(tmp_path / "var"))
    return folder


def test_a_gate_file_that_cannot_be_used_stops_up_with_its_name(
    own_gates: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (own_gates / "broken.toml").write_text("gate_id = \n", encoding="utf-8")

    assert main(["up", "--no-simulator"]) == 2

    err = capsys.readouterr().err
    assert err.startswith("borderflow up: broken.toml: invalid TOML: ")
    assert "Traceback" not in err
    assert not (own_gates.parent / "bf.db").exists()


def test_a_default_gate_that_no_gate_file_has_stops_up(
    own_gates: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BORDERFLOW_GATE_ID", "huu-nghi")  # the packaged gate, not in the folder

    assert main(["up", "--no-simulator"]) == 2

    assert capsys.readouterr().err == (
        "borderflow up: BORDERFLOW_GATE_ID: unknown gate 'huu-nghi' (known: lang-son): "
        f"no gate file in {own_gates} has this gate_id\n"
    )
    assert not (own_gates.parent / "bf.db").exists()


def test_a_gate_the_traffic_simulator_cannot_drive_stops_up_before_it_starts(
    own_gates: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The simulator reads each truck at an approach and a gate-in camera: on a gate file
    without approach cameras `borderflow up` started broker, database and API, then ended
    in the simulator's traceback (found by a stranger's try)."""
    text = (own_gates / "lang-son.toml").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if 'role = "approach"' not in line]
    lines = [line for line in lines if "[[waiting_areas]]" not in line]
    text = "\n".join(lines).split("area_id =")[0].rsplit("\n", 1)[0] + "\n"
    (own_gates / "lang-son.toml").write_text(text, encoding="utf-8")

    assert main(["up", "--trucks", "10"]) == 2

    assert capsys.readouterr().err == (
        "borderflow up: gate 'lang-son' has no direction with approach and gate-in cameras: "
        "the traffic simulator reads each truck at both (add an approach camera to the gate "
        "file's cameras, or run `borderflow up --no-simulator`)\n"
    )
    assert not (own_gates.parent / "bf.db").exists()


@pytest.mark.parametrize(
    "command",
    [["migrate"], ["up", "--no-simulator"], ["up"], ["api"], ["worker", "decider"]],
    ids=" ".join,
)
def test_every_command_that_starts_the_system_refuses_an_unknown_default_gate_alike(
    command: list[str],
    own_gates: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`migrate` took a BORDERFLOW_GATE_ID no gate file has and migrated the database,
    where `up`, the workers and the API refused it: now each refuses it before anything
    starts (no database made), with one line and the known gates, status 2."""
    monkeypatch.setenv("BORDERFLOW_GATE_ID", "nowhere")
    monkeypatch.setenv("BORDERFLOW_KAFKA_BOOTSTRAP", "127.0.0.1:9")  # never reached

    assert main(command) == 2

    assert capsys.readouterr().err == (
        f"borderflow {command[0]}: BORDERFLOW_GATE_ID: unknown gate 'nowhere' (known: "
        f"lang-son): no gate file in {own_gates} has this gate_id\n"
    )
    assert not (own_gates.parent / "bf.db").exists()
