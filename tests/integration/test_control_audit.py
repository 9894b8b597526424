"""The audit log on SQLite and PostgreSQL, through the command line: every entry chained to
the previous one by its hash; an edited or deleted entry makes `borderflow audit verify`
fail and name it; `audit export` writes JSONL that re-verifies from the file alone; the
`controllers` commands manage accounts."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from services.bootstrap import prepare_database
from services.cli.main import main
from services.db.audit import GENESIS, append_entry, entry_hash
from services.db.control_tables import AuditRow
from services.db.engine import create_engine, session_factory
from services.gates.loader import default_gates
from services.runtime.settings import DatabaseSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def use_database(monkeypatch: pytest.MonkeyPatch, database: DatabaseSettings) -> None:
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", database.url)
    if database.schema_name:
        monkeypatch.setenv("BORDERFLOW_DATABASE_SCHEMA_NAME", database.schema_name)


async def write_entries(database: DatabaseSettings, count: int) -> None:
    engine = create_engine(database)
    try:
        await prepare_database(engine, default_gates())
        sessions = session_factory(engine)
        for n in range(count):
            async with sessions() as session, session.begin():
                await append_entry(
                    session=session,
                    actor="ana",
                    action="close_lane",
                    gate_id="huu-nghi",
                    target=f"HN-E{n + 1}",
                    reason=f"reason {n + 1}: 雨 flooding",
                    details={"event_time": (T0 + timedelta(minutes=n)).isoformat(), "n": n},
                    at=T0 + timedelta(minutes=n),
                )
    finally:
        await engine.dispose()


async def tamper(database: DatabaseSettings, statement: object) -> None:
    engine = create_engine(database)
    try:
        async with session_factory(engine)() as session, session.begin():
            await session.execute(statement)  # type: ignore[call-overload]
    finally:
        await engine.dispose()


def verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["audit", "verify"])
    return code, capsys.readouterr().out.strip()


def test_an_edited_or_deleted_entry_is_named_by_verify(
    database_settings: DatabaseSettings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    use_database(monkeypatch, database_settings)
    asyncio.run(write_entries(database_settings, 5))
    code, out = verify(capsys)
    assert code == 0 and out.startswith("audit log OK: 5 entries, head entry 5 hash ")

    # the export holds every entry with its hash, and the chain checks out from the file alone
    export = tmp_path / "new" / "folder" / "audit.jsonl"  # its folder is made
    assert main(["audit", "export", "--out", str(export)]) == 0
    assert main(["audit", "export", "--out", str(tmp_path)]) == 2  # a folder: no traceback
    assert "Is a directory" in capsys.readouterr().err
    lines = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    assert [e["seq"] for e in lines] == [1, 2, 3, 4, 5]
    assert lines[0]["prev_hash"] == GENESIS and lines[2]["reason"] == "reason 3: 雨 flooding"
    for before, entry in zip([None, *lines], lines, strict=False):
        fields = {k: v for k, v in entry.items() if k != "hash"}
        assert entry_hash(fields) == entry["hash"]
        assert entry["prev_hash"] == (GENESIS if before is None else before["hash"])

    # an edit: entry 3 says something else than it said
    asyncio.run(
        tamper(database_settings, update(AuditRow).where(AuditRow.seq == 3).values(actor="bob"))
    )
    code, out = verify(capsys)
    assert code == 1
    assert out.startswith("audit log BROKEN at entry 3: entry 3: content does not match its hash")

    # put back, then a deletion: entry 2 disappears
    asyncio.run(
        tamper(database_settings, update(AuditRow).where(AuditRow.seq == 3).values(actor="ana"))
    )
    assert verify(capsys)[0] == 0
    asyncio.run(tamper(database_settings, delete(AuditRow).where(AuditRow.seq == 2)))
    code, out = verify(capsys)
    assert (code, out) == (
        1,
        "audit log BROKEN at entry 3: entry 3: follows entry 1; entries 2..2 are missing",
    )


def test_controller_accounts_from_the_command_line(
    database_settings: DatabaseSettings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_database(monkeypatch, database_settings)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    assert main(["controllers", "create", "ana", "--role", "controller", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["controllers", "create", "vic", "--password-stdin"]) == 1
    assert "password: at least 8 characters" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    assert main(["controllers", "create", "ana", "--password-stdin"]) == 1
    assert "username: 'ana' exists" in capsys.readouterr().err
    # no terminal and no --password-stdin (or Ctrl-D at the prompt): a message, no traceback
    monkeypatch.setattr("getpass.getpass", lambda prompt="": (_ for _ in ()).throw(EOFError))
    assert main(["controllers", "create", "eve"]) == 1
    assert "password: none given (the input ended)" in capsys.readouterr().err
    assert main(["controllers", "set-role", "ana", "viewer"]) == 0
    assert main(["controllers", "disable", "ana"]) == 0
    capsys.readouterr()
    assert main(["controllers", "list"]) == 0
    assert capsys.readouterr().out.startswith("ana\tviewer disabled\tsince ")
