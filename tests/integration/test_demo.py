"""`borderflow up` as a new user runs it (what `make demo` does): decisions flow, /health and
/v1/queue answer, Ctrl-C stops everything and leaves no broker behind."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(120)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, cookie: str | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # a hang guard only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_up_runs_the_whole_system_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    env = dict(
        os.environ,
        BORDERFLOW_API_PORT=str(port),
        BORDERFLOW_VAR_DIR=str(tmp_path / "var"),
        BORDERFLOW_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'var' / 'demo.db'}",
    )
    log = tmp_path / "up.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "up", "--speedup", "1200", "--trucks", "3000"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        assigned = 0
        while time.monotonic() < deadline and assigned == 0:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.5)
            found = re.findall(r"assigned\s+(\d+)", log.read_text())
            assigned = int(found[-1]) if found else 0
        assert assigned > 0, f"no decision within 60 s:\n{log.read_text()}"
        status, health = _get(f"http://127.0.0.1:{port}/health")
        assert status == 200 and health["status"] == "ok", health
        # the demo's control-room account, printed once, logs in; its session opens the
        # gate-wide queue (staff only)
        password = re.findall(r"user demo, password (\S+);", log.read_text())[0]
        login = urllib.request.Request(
            f"http://127.0.0.1:{port}/control/api/login",
            data=json.dumps({"username": "demo", "password": password}).encode(),
            headers={"Content-Type": "application/json"},
        )
        # 30 s: a hang guard, not a latency bound (a login's scrypt on a loaded machine under
        # the demo at x1200 took more than 5 s once)
        with urllib.request.urlopen(login, timeout=30) as answer:
            assert json.loads(answer.read())["can_act"] is True
            cookie = answer.headers["Set-Cookie"].split(";")[0]
        # issue 22: the demo's simulator injects anomalies (1% of trucks): alerts come
        deadline, items = time.monotonic() + 60, []
        while not items and time.monotonic() < deadline:
            status, answer = _get(f"http://127.0.0.1:{port}/control/api/alerts", cookie=cookie)
            assert status == 200, answer
            items = list(answer["items"])  # type: ignore[call-overload]
            time.sleep(0.2)
        assert items, f"no alert within 60 s:\n{log.read_text()}"
        assert "anomalies injected" in log.read_text()
        status, _ = _get(f"http://127.0.0.1:{port}/v1/queue")
        assert status == 401
        status, queue = _get(f"http://127.0.0.1:{port}/v1/queue", cookie=cookie)
        assert status == 200
        assert isinstance(queue["lanes"], list) and len(queue["lanes"]) == 24
        # the README's recipe, with curl's own cookie jar (which sends a cookie by its path)
        jar, base = tmp_path / "jar", f"localhost:{port}"
        body = json.dumps({"username": "demo", "password": password})
        login_cmd = ["curl", "-s", "-c", str(jar), "-H", "Content-Type: application/json"]
        # (a 503 is SQLite busy under the demo at x1200 on a loaded machine: try again, as
        # its Retry-After says; it was a 500 once, 2026-12-06)
        for _ in range(3):
            said = subprocess.run(
                [*login_cmd, "-w", "\n%{http_code}", "-d", body, f"{base}/control/api/login"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            if not said.endswith("\n503"):
                break
            time.sleep(5)
        assert said.endswith("\n200"), said
        answer = subprocess.run(
            ["curl", "-s", "-w", "\n%{http_code}", "-b", str(jar), f"{base}/v1/queue"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        text, code = answer.rsplit("\n", 1)
        assert code == "200", answer
        assert len(json.loads(text)["lanes"]) == 24
        broker_pid = int(re.findall(r"broker pid (\d+)", log.read_text())[0])
        # a control-room page stays open (its event stream) while Ctrl-C comes
        events = tmp_path / "stream.txt"
        stream = subprocess.Popen(
            ["curl", "-s", "-N", "-b", str(jar), f"{base}/control/api/stream"],
            stdout=events.open("wb"),
        )
        deadline = time.monotonic() + 20
        while "event: state" not in events.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "event: state" in events.read_text()
    finally:
        proc.send_signal(signal.SIGINT)
        asked = time.monotonic()
        code = proc.wait(90)
        took = time.monotonic() - asked
    output = log.read_text()
    assert code == 0, f"exit {code} after {took:.1f} s\n{output}"
    assert "borderflow stopped cleanly." in output
    assert "Traceback" not in output and "Exception in ASGI application" not in output
    # "trucks" counts a truck once: not again when the exit camera reads it leaving (a
    # stranger's try: trucks 5,891 for 2,990 decided); the trucks still in the waiting area
    # are counted and not yet decided (how many depends on the machine's load: a wide bound,
    # still under the ~1.7 x the double count gave)
    line = re.findall(r"trucks +(\d+) +assigned +(\d+) +review +(\d+) +refused +(\d+)", output)
    trucks, *outcomes = map(int, line[-1])
    assert trucks <= 1.4 * sum(outcomes) + 25, line[-1]
    # the page is told, and the stop does not wait for its stream (7.6-30 s before)
    assert stream.wait(10) == 0
    assert 'event: bye\ndata: {"reason": "server stopping"}' in events.read_text()
    # the server ended the stream itself (the bye above), so the stop does not wait out the
    # stream's 20 s lifetime; no bound on `took` (printed on failure only): 18 s failed on a
    # machine with a load average of 14 (23.7 s), and a test must not depend on timing
    assert not _alive(broker_pid), "the embedded broker outlived `borderflow up`"


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.split(")")[-1].split()[0] != "Z"  # a zombie is dead (no init reaps here)
