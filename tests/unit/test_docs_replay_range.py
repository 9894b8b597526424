"""The analyst's replay range, as the README and getting-started write it (`FROM=$(date
...)`), covers a demo run that crossed midnight UTC: a demo started at 23:50 UTC and stopped
after midnight (on 31 December, into the new year) recorded reads from 23:50, and the range
from today's 00:00 UTC left them out of the replay's report (they were only warm-up).

The shell lines are run as written, with `date` answering for a pinned instant (a shim in
front of GNU date), so the test depends neither on today's date nor on the machine's zone."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", ROOT / "docs" / "getting-started.md"]
REAL_DATE = shutil.which("date")

SHIM = """#!/bin/bash
# GNU date at $BF_NOW: `-d X` is read relative to it
rel=""; args=()
while [ $# -gt 0 ]; do
  case "$1" in -d) rel="$2"; shift 2;; *) args+=("$1"); shift;; esac
done
exec {real} -d "$BF_NOW $rel" "${{args[@]}}"
"""


def _range_line(page: Path) -> str:
    lines = [line for line in page.read_text("utf-8").splitlines() if line.startswith("FROM=")]
    assert len(lines) == 1, f"{page.name}: one FROM= line expected, found {lines}"
    return lines[0]


def _evaluated(line: str, now: datetime, tmp_path: Path) -> tuple[datetime, datetime]:
    assert REAL_DATE is not None
    shim = tmp_path / "date"
    shim.write_text(SHIM.format(real=REAL_DATE))
    shim.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "BF_NOW": now.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "TZ": "America/New_York",  # the stranger's machine: not UTC
    }
    out = subprocess.run(
        ["bash", "-c", f'{line}\necho "$FROM $TO"'],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    start, end = (datetime.fromisoformat(x) for x in out)
    return start, end


def _gnu_date() -> bool:
    if REAL_DATE is None:
        return False
    version = subprocess.run([REAL_DATE, "--version"], capture_output=True, text=True, check=False)
    return "GNU" in version.stdout


@pytest.mark.skipif(not _gnu_date(), reason="the README's date lines are GNU date's")
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_the_replay_range_covers_a_demo_that_crossed_midnight(page: Path, tmp_path: Path) -> None:
    started = datetime(2027, 12, 31, 23, 50, tzinfo=UTC)
    stopped = datetime(2028, 1, 1, 0, 10, tzinfo=UTC)
    # the demo's events run 60 times the wall clock from its start
    last_event = started + (stopped - started) * 60
    start, end = _evaluated(_range_line(page), stopped + timedelta(minutes=1), tmp_path)
    assert start <= started, f"{page.name}: FROM {start} leaves out the demo's first reads"
    assert end > last_event, f"{page.name}: TO {end} leaves out the demo's last reads"
