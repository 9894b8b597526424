"""`borderflow xborder link` of China started as docs/exchange.md's settings say, but
without `BORDERFLOW_GATES_DIR=services/gates/cn` (a stranger's first try): it ran with
Vietnam's gate files, found no `[corridor]` of its side, and so published none of China's
facts and checked none of Vietnam's gates, without a word in its log. Now it says so at
start, naming the variable. A process of its own, as an operator starts it, against an
embedded broker."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lanes.crossings import Side
from services.runtime.settings import DatabaseSettings
from tests.integration.xborder_harness import eventually, gate_side

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.mark.parametrize("gates_dir", [None, "services/gates/cn"], ids=["vn-files", "cn-files"])
async def test_a_link_without_a_corridor_of_its_side_says_so_at_start(
    tmp_path: Path, gates_dir: str | None
) -> None:
    db = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'cn.db'}")
    async with gate_side(Side.CN, db, tmp_path) as cn, gate_side(Side.VN, db, tmp_path) as vn:
        env = dict(os.environ)
        env.pop("BORDERFLOW_GATES_DIR", None)
        env.pop("BORDERFLOW_GATE_ID", None)
        settings = cn.settings(vn)
        env.update(
            BORDERFLOW_KAFKA_BOOTSTRAP=cn.bootstrap,
            BORDERFLOW_DATABASE_URL=db.url,
            BORDERFLOW_METRICS_PORT="0",
            BORDERFLOW_XBORDER_SIDE="CN",
            BORDERFLOW_XBORDER_SIGNING_KEY_ID=cn.key.key_id,
            BORDERFLOW_XBORDER_SIGNING_KEY=settings.signing_key.get_secret_value(),
            BORDERFLOW_XBORDER_TRUSTED_KEYS=json.dumps({vn.key.key_id: vn.key.public_base64()}),
        )
        if gates_dir is not None:
            env.update(BORDERFLOW_GATES_DIR=gates_dir, BORDERFLOW_GATE_ID="youyiguan")
        log = tmp_path / "link.log"
        proc = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "services.cli", "xborder", "link"],
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        try:

            async def started() -> bool:
                assert proc.poll() is None, log.read_text()[-3000:]
                return "cross-border link of CN" in log.read_text()

            await eventually(started, timeout_s=60, what="the link started")
        finally:
            proc.terminate()
            await asyncio.to_thread(proc.wait, 30)
    text = log.read_text()
    said = (
        'no gate file in the packaged gate files declares a [corridor] with side = "CN": '
        "none of CN's crossing facts are published and the gates in VN's messages are not "
        "checked; set BORDERFLOW_GATES_DIR to CN's gate files (services/gates/cn)"
    )
    if gates_dir is None:
        assert said in text, text[-3000:]
    else:
        assert "[corridor]" not in text, text[-3000:]
