"""The two sides' gate files (issue 21): each loads on its own, declares its corridor, and
the Vietnamese deployment still serves Huu Nghi alone."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import pytest

from lanes.crossings import Side
from services.gates.loader import configured_gates, default_gates
from services.xborder.corridor import corridor_of, side_gates_dir
from services.xborder.facts import gate_corridors
from services.xborder.routes import _corridor

GATES = Path(str(resources.files("services.gates")))


def test_each_side_declares_the_other() -> None:
    vn = corridor_of(GATES / "huu-nghi.toml")
    cn = corridor_of(GATES / "cn" / "youyiguan.toml")
    assert vn is not None and cn is not None
    assert (vn.side, vn.peer_gate_id, cn.side, cn.peer_gate_id) == (
        Side.VN,
        "youyiguan",
        Side.CN,
        "huu-nghi",
    )
    assert vn.corridor.deadline_after_exit == timedelta(minutes=60)


def test_the_chinese_side_runs_its_own_gate() -> None:
    gates = configured_gates(side_gates_dir(Side.CN))
    assert set(gates) == {"youyiguan"}
    gate = gates["youyiguan"]
    assert gate.utc_offset == timedelta(hours=8)
    assert all(c.camera_id.startswith("yg-") for c in gate.cameras)
    assert gate.booking is not None and gate.booking.slot_length == timedelta(minutes=30)
    assert set(default_gates()) == {"huu-nghi"}
    assert side_gates_dir(Side.VN) is None


def test_up_side_runs_the_sides_gate_in_its_own_folder() -> None:
    from pathlib import Path as P  # noqa: PLC0415

    from services.runtime.settings import Settings  # noqa: PLC0415
    from services.xborder.corridor import side_settings  # noqa: PLC0415

    cn = side_settings(Settings(var_dir=P("var")), "CN")
    assert cn.gate_id == "youyiguan"
    assert set(configured_gates(cn.gates_dir)) == {"youyiguan"}
    assert cn.database.url == "sqlite+aiosqlite:///var/cn/borderflow.db"
    vn = side_settings(Settings(var_dir=P("var")), "VN")
    assert (vn.gate_id, vn.gates_dir, vn.var_dir) == ("huu-nghi", None, P("var/vn"))


def test_the_api_serves_the_corridor_of_the_gate_files_it_runs_with(tmp_path: Path) -> None:
    """Found by a stranger's try: with BORDERFLOW_GATES_DIR on a person's own gate file that
    has a [corridor], GET /v1/xborder/state answered 404 "gate 'lang-son' has no [corridor]
    in its file": the API read the packaged gate files' corridors only."""
    text = (GATES / "huu-nghi.toml").read_text(encoding="utf-8")
    (tmp_path / "lang-son.toml").write_text(
        text.replace('gate_id = "huu-nghi"', 'gate_id = "lang-son"'), encoding="utf-8"
    )
    context = SimpleNamespace(default_gate="lang-son", corridors=gate_corridors(tmp_path))
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(context=context)))

    _, corridor = _corridor(request)  # type: ignore[arg-type]

    assert (corridor.gate_id, corridor.peer_gate_id) == ("lang-son", "youyiguan")


def test_up_side_keeps_a_database_url_the_operator_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by a stranger's try: `BORDERFLOW_DATABASE_URL=sqlite+aiosqlite:///./var/
    borderflow.db borderflow up --side CN` wrote to var/cn/borderflow.db instead: a URL set
    to the default's spelling was taken for no setting at all."""
    from pathlib import Path as P  # noqa: PLC0415

    from services.runtime.settings import Settings  # noqa: PLC0415
    from services.xborder.corridor import side_settings  # noqa: PLC0415

    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", "sqlite+aiosqlite:///./var/borderflow.db")
    cn = side_settings(Settings(var_dir=P("var")), "CN")
    assert cn.database.url == "sqlite+aiosqlite:///./var/borderflow.db"
    monkeypatch.setenv("BORDERFLOW_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1/cn")
    cn = side_settings(Settings(var_dir=P("var")), "CN")
    assert cn.database.url == "postgresql+asyncpg://postgres@127.0.0.1/cn"
