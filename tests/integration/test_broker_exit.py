"""`borderflow broker` whose Tansu process dies (killed, crashed) exits with status 1 and a
line saying so; it waited for a signal for ever, printing nothing, while every worker and
the API retried a broker that would not come back (found by killing the broker's process
as an operator might, under `borderflow up` too: the supervisor now stops on it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _child_of(pid: int) -> int:
    found = subprocess.run(["pgrep", "-P", str(pid)], check=True, capture_output=True, text=True)
    children = [int(line) for line in found.stdout.split()]
    assert len(children) == 1, found
    return children[0]


def test_the_broker_command_exits_when_its_broker_process_dies(tmp_path: Path) -> None:
    env = {**os.environ, "BORDERFLOW_VAR_DIR": str(tmp_path / "var")}
    env.pop("BORDERFLOW_KAFKA_BOOTSTRAP", None)
    command = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "broker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert command.stdout is not None
        ready = command.stdout.readline()  # once the topics are made
        assert ready.startswith("BORDERFLOW_KAFKA_BOOTSTRAP="), ready
        os.kill(_child_of(command.pid), signal.SIGKILL)
        _, err = command.communicate(timeout=60)  # a hang guard only
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()
    assert command.returncode == 1
    assert "borderflow broker: the embedded broker on 127.0.0.1:" in err
    assert "exited with status -9" in err
