"""The domain imports the standard library only and never reads a clock (STYLE.md habits 1-2)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

LANES = Path(__file__).resolve().parents[2] / "lanes"
SOURCES = sorted(LANES.rglob("*.py"))
ALLOWED = set(sys.stdlib_module_names) | {"lanes", "__future__"}
# (object, attribute) pairs that read the wall clock
CLOCKS = {("datetime", "now"), ("datetime", "utcnow"), ("time", "time"), ("date", "today")}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.Module) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _clock_reads(tree: ast.Module) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            owner = node.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
            if (name, node.attr) in CLOCKS:
                found.append((node.lineno, f"{name}.{node.attr}"))
        elif isinstance(node, ast.ImportFrom) and node.module in {"datetime", "time"}:
            for alias in node.names:
                if (node.module, alias.name) == ("time", "time"):
                    found.append((node.lineno, f"from {node.module} import {alias.name}"))
    return sorted(found)


def test_the_domain_has_modules() -> None:
    assert {p.name for p in SOURCES} >= {"model.py", "visits.py", "matching.py", "decide.py"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_imports_are_standard_library_only(path: Path) -> None:
    outside = [
        f"{path.name}:{line} imports {module}"
        for line, module in _imports(_tree(path))
        if module.partition(".")[0] not in ALLOWED
    ]
    assert outside == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_time_is_an_argument_never_the_wall_clock(path: Path) -> None:
    reads = [f"{path.name}:{line} uses {what}" for line, what in _clock_reads(_tree(path))]
    assert reads == []


def test_the_checks_catch_what_they_are_for() -> None:
    bad = ast.parse(
        "import sqlalchemy\nfrom aiokafka import X\nimport datetime as dt\n"
        "from time import time\n"
        "a = datetime.now()\nb = dt.datetime.utcnow()\nc = time.time()\nd = date.today()\n"
    )
    assert [m for _, m in _imports(bad) if m.partition(".")[0] not in ALLOWED] == [
        "sqlalchemy",
        "aiokafka",
    ]
    assert [what for _, what in _clock_reads(bad)] == [
        "from time import time",
        "datetime.now",
        "datetime.utcnow",
        "time.time",
        "date.today",
    ]
