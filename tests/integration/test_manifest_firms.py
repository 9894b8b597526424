"""`borderflow firms ...` and API keys, on SQLite and PostgreSQL: a key is shown once, works
until revoked, rotation keeps the old key working, only hashes are stored."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from services.cli.firms import main_firms
from services.db.engine import create_engine, session_factory
from services.db.firms import firm_for_key, lookup_key
from services.db.tables import ApiKeyRow
from services.runtime.settings import DatabaseSettings, Settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

KEY = re.compile(r"API key: (bf_[A-Za-z0-9_-]{43})")


async def _firms(settings: Settings, command: str, **args: str | None) -> int:
    return await main_firms(settings, argparse.Namespace(firms_command=command, **args))


async def test_firm_keys_from_creation_to_revocation(
    database_settings: DatabaseSettings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database=database_settings, var_dir=tmp_path)
    assert await _firms(settings, "create", name="Công ty Vận tải Đông Á", firm_id=None) == 0
    out, err = capsys.readouterr()
    assert "created firm cong-ty-van-tai-dong-a" in out
    first = KEY.search(out)
    assert first is not None, out
    assert "shown once" in err

    assert await _firms(settings, "create", name="Again", firm_id="cong-ty-van-tai-dong-a") == 1
    assert "already exists" in capsys.readouterr().err
    assert await _firms(settings, "create", name="Bad", firm_id="no spaces please") == 1
    assert "firm id 'no spaces please'" in capsys.readouterr().err

    assert await _firms(settings, "rotate-key", firm_id="cong-ty-van-tai-dong-a") == 0
    second = KEY.search(capsys.readouterr().out)
    assert second is not None
    assert await _firms(settings, "rotate-key", firm_id="nobody") == 1
    assert "no firm 'nobody'" in capsys.readouterr().err

    engine = create_engine(database_settings)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            assert await firm_for_key(session=session, key=first[1]) == "cong-ty-van-tai-dong-a"
            assert await firm_for_key(session=session, key=second[1]) == "cong-ty-van-tai-dong-a"
            forged = first[1][:12] + "x" * (len(first[1]) - 12)
            assert await firm_for_key(session=session, key=forged) is None
            assert await firm_for_key(session=session, key="not-a-key") is None
            stored = (await session.scalars(select(ApiKeyRow))).all()
        assert {k.prefix for k in stored} == {first[1][:12], second[1][:12]}
        assert all(
            len(k.key_hash) == 64 and k.key_hash not in (first[1], second[1]) for k in stored
        )

        assert await _firms(settings, "list") == 0
        listing = capsys.readouterr().out
        assert "cong-ty-van-tai-dong-a  Công ty Vận tải Đông Á" in listing
        assert listing.count("active") == 2
        assert first[1] not in listing and second[1] not in listing

        assert await _firms(settings, "revoke-key", prefix=first[1][:12]) == 0
        assert "revoked key" in capsys.readouterr().out
        assert await _firms(settings, "revoke-key", prefix=first[1][:12]) == 1
        assert "no live key" in capsys.readouterr().err
        async with sessions() as session:
            assert await firm_for_key(session=session, key=first[1]) is None
            match = await lookup_key(session=session, key=first[1])
            assert match is not None and match.revoked_at is not None
            assert await firm_for_key(session=session, key=second[1]) == "cong-ty-van-tai-dong-a"
        assert await _firms(settings, "list") == 0
        assert "revoked" in capsys.readouterr().out
    finally:
        await engine.dispose()
