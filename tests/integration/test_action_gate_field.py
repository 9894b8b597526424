"""An action naming a gate the system does not have is refused naming the body's field,
`gate_id`. Found by a tester as a lane controller posting `/control/api/actions` with
`"gate_id": "nowhere"`: the problem named `gate`, a field the request does not have."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.browser.live import PASSWORD
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


async def test_an_unknown_gate_of_an_action_names_gate_id(tmp_path: Path) -> None:
    async with (
        api_on_a_port(tmp_path) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        login = await client.post(
            "/control/api/login", json={"username": "ana", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        answer = await client.post(
            "/control/api/actions",
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
            json={
                "action": "close_lane",
                "lane_id": "HN-E1",
                "reason": "crew short",
                "gate_id": "nowhere",
            },
        )
        assert answer.status_code == 404, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        problem = answer.json()
        assert [e["field"] for e in problem["errors"]] == ["gate_id"], problem
        assert problem["detail"].startswith("gate_id: unknown gate 'nowhere'"), problem
