"""The docs run the project's Python programs with the virtualenv's interpreter, as
getting-started says (`.venv/bin/python bench/alerts.py`): before, many pages wrote a bare
`python bench/...` or `python -m ...`, which on a machine where the system's `python` has
not the project installed fails with ModuleNotFoundError (or runs another Python)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# `python` or `python3` starting a command that needs the project: a bench, a script, a
# module of the project; the standard library's own tools (`-m json.tool`, `-m venv`) need
# no project and are left to the system's Python
BARE = re.compile(
    r"(?<![\w/.-])python3? (?:bench/|scripts/|-m (?!json\.tool|venv\b))|(?<![\w/.-])python -m$"
)


def test_no_page_runs_a_project_program_with_the_systems_python() -> None:
    pages = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
    bare = [
        f"{page.relative_to(ROOT)}:{n}: {line.strip()}"
        for page in pages
        for n, line in enumerate(page.read_text("utf-8").splitlines(), 1)
        if BARE.search(line)
    ]
    assert len(pages) > 10
    assert not bare, "write .venv/bin/python (docs/getting-started.md):\n" + "\n".join(bare)
