"""`borderflow manifests import FILE`: malformed lines are named `FILE:LINE: field: reason`
and do not stop the rest; the good ones are stored; the exit status says whether all were."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.cli.manifest_import import import_manifests, main_import
from services.db.engine import create_engine, display_url, session_factory
from services.db.tables import ManifestPlateKeyRow, ManifestRow
from services.runtime.settings import DatabaseSettings, Settings
from tests.integration.harness import manifest_form

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def _line(form: dict[str, Any]) -> str:
    return json.dumps(form, ensure_ascii=False)


async def _stored(database: DatabaseSettings) -> dict[str, tuple[str, str, int]]:
    engine = create_engine(database)
    try:
        async with session_factory(engine)() as session:
            rows = await session.scalars(select(ManifestRow))
            stored = {r.manifest_id: (r.firm_id, r.source, r.version) for r in rows}
            keyed = set(await session.scalars(select(ManifestPlateKeyRow.manifest_id)))
    finally:
        await engine.dispose()
    assert keyed == set(stored)  # every stored manifest is in the plate-key index
    return stored


async def test_good_lines_are_stored_and_bad_ones_named(
    database_settings: DatabaseSettings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "manifests.jsonl"
    lines = [
        _line(manifest_form("MF-1")),
        "",
        '{"manifest_id": "MF-X", ',
        _line(manifest_form("MF-4", tractor_plate="ABC")),
        _line(manifest_form("MF-2", tractor_plate="桂A·12345", trailer_plate=None)),
        _line(manifest_form("MF-5", firm_id=None)),
        _line(manifest_form("MF-3", firm_id="firm-02", tractor_plate="12C-123.45")),
        _line(manifest_form("MF-1")),
        _line(manifest_form("MF-1", firm_id="firm-02")),
        "   ",
        _line(manifest_form("MF-6", containers=["CSQU3054384"])),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = Settings(database=database_settings, var_dir=tmp_path)

    status = await main_import(settings, str(path))
    out, err = capsys.readouterr()

    assert status == 1
    counts = f"{path}: 3 created, 0 updated, 1 unchanged, 1 refused, 4 invalid"
    assert out.strip() == f"{counts} (database {display_url(database_settings)})", out
    problems = err.strip().splitlines()
    assert problems[0].startswith(f"{path}:3: invalid JSON")
    assert problems[1].startswith(f"{path}:4: tractor_plate: 'ABC'")
    assert problems[2].startswith(f"{path}:6: firm_id: ")
    assert problems[3].startswith(f"{path}:11: containers: 'CSQU3054384': check digit")
    assert problems[4] == f"{path}:9: manifest_id: 'MF-1' is already taken; choose another id"
    assert len(problems) == 5
    assert await _stored(database_settings) == {
        "MF-1": ("firm-01", "import", 1),
        "MF-2": ("firm-01", "import", 1),
        "MF-3": ("firm-02", "import", 1),
    }


async def test_a_clean_file_exits_zero_and_a_reimport_changes_nothing(
    database_settings: DatabaseSettings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forms = [manifest_form(f"MF-{i}", tractor_plate=f"29H-123.4{i}") for i in range(5)]
    data = ("\n".join(_line(f) for f in forms)).encode()
    settings = Settings(database=database_settings, var_dir=tmp_path)
    file = tmp_path / "day.jsonl"
    file.write_bytes(b"\xef\xbb\xbf" + data)  # a BOM, as spreadsheet exports write it

    assert await main_import(settings, str(file)) == 0
    assert "5 created" in capsys.readouterr().out

    engine = create_engine(database_settings)
    try:  # again, from stdin, in transactions of two: all unchanged
        counts = await import_manifests(
            sessions=session_factory(engine),
            lines=io.BytesIO(data),
            name="<stdin>",
            now=datetime.now(UTC),
            errors=io.StringIO(),
            batch=2,
        )
    finally:
        await engine.dispose()
    assert counts["unchanged"] == 5 and counts["created"] == 0

    assert await main_import(settings, str(tmp_path / "missing.jsonl")) == 1
    assert "missing.jsonl" in capsys.readouterr().err
