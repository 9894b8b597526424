"""A controller's action that the database cannot take in time is a 503 to try again, not
a 500. Found in the control room on a sped-up simulated day (SQLite, the default): a Hold
waited 30 s for the write lock the decider held, and the page said "refused (500):
unexpected error; quote request id ...". The lock is SQLite's `database is locked` at
BEGIN IMMEDIATE, raised here by the use case so the test does not wait 30 s for it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from services.control import routes
from services.service_layer.control import ChangeAlertStatusHandler
from tests.browser.live import PASSWORD
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


async def _locked(*_: Any, **__: Any) -> Any:
    raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))


async def test_an_action_the_database_is_too_busy_for_is_a_503_to_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with api_on_a_port(tmp_path) as port:
        monkeypatch.setattr(routes, "apply_action", _locked)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            me = await client.post(
                "/control/api/login", json={"username": "ana", "password": PASSWORD}
            )
            csrf = {"X-CSRF-Token": me.json()["csrf_token"]}
            r = await client.post(
                "/control/api/actions",
                json={"action": "close_lane", "lane_id": "HN-E1", "reason": "crew short"},
                headers=csrf,
            )
            assert r.status_code == 503, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert r.headers["retry-after"] == "5"
            assert r.json()["type"] == "urn:borderflow:problem:database-busy"
            assert r.json()["detail"] == (
                "database: busy (another writer held it past the wait); not applied, try again"
            )

            monkeypatch.setattr(ChangeAlertStatusHandler, "__call__", _locked)
            r = await client.post(
                "/control/api/alerts/al-1/acknowledge", json={"reason": "seen"}, headers=csrf
            )
            assert r.status_code == 503, r.text
            assert r.json()["type"] == "urn:borderflow:problem:database-busy"
