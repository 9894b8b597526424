"""Two controllers closing one lane through the real HTTP app (SQLite): the second is told
the lane is already being closed, and by whom, while the first's lane event waits to be
applied (this system has no lane-event worker, so it waits for the whole test). Found in the
control room: both were 'done', two closures audited and sent."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.browser.live import PASSWORD
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


async def _controller(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    r = await client.post("/control/api/login", json={"username": name, "password": PASSWORD})
    return {"X-CSRF-Token": r.json()["csrf_token"]}


async def test_the_second_controller_closing_a_lane_is_told_who_is_closing_it(
    tmp_path: Path,
) -> None:
    async with api_on_a_port(tmp_path) as port:
        base = f"http://127.0.0.1:{port}"
        async with (
            httpx.AsyncClient(base_url=base) as ana,
            httpx.AsyncClient(base_url=base) as demo,
        ):
            as_ana, as_demo = await _controller(ana, "ana"), await _controller(demo, "demo")
            close = {"action": "close_lane", "lane_id": "HN-E5", "reason": "crew short"}
            first = await ana.post("/control/api/actions", json=close, headers=as_ana)
            assert first.status_code == 200, first.text
            second = await demo.post("/control/api/actions", json=close, headers=as_demo)
            assert second.status_code == 409, second.text
            assert second.json()["detail"] == (
                "lane_id: HN-E5 is already being closed by ana (crew short)"
            )
            reopen = close | {"action": "open_lane", "reason": "crew back"}
            third = await demo.post("/control/api/actions", json=reopen, headers=as_demo)
            assert third.status_code == 200, third.text
