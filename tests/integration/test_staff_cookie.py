"""The control-room session as clients keep it (issue 17): logged in once, the same cookie
opens the control room and the gate-wide staff views `/v1/queue` and `/v1/review`. The cookie
travels in the clients' own jars (httpx, curl), which send it by its path; nothing here
attaches it by hand. It was set for `/control` only, so neither browsers nor curl sent it to
`/v1` and the README's recipe answered 401."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from services.bootstrap import Infrastructure, infrastructure
from services.db.controllers import create_controller
from services.runtime.settings import DatabaseSettings
from tests.browser.live import PASSWORD, add_controllers, free_port, served_api
from tests.integration.harness import fresh_broker, make_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

README = Path(__file__).parents[2] / "README.md"
STAFF_VIEWS = ("/v1/queue", "/v1/review", "/v1/waiting-area")


@asynccontextmanager
async def api_on_a_port(
    tmp_path: Path, seed: Callable[[Infrastructure], Awaitable[None]] | None = None
) -> AsyncIterator[str]:
    """The API served on 127.0.0.1 (SQLite, the embedded broker), with `ana` and `vic` and a
    `demo` controller, all with PASSWORD, and what `seed` writes first; yields the port."""
    database = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}")
    async with (
        fresh_broker(tmp_path) as broker,
        infrastructure(make_settings(broker.bootstrap, database, tmp_path)) as infra,
    ):
        await add_controllers(infra)
        async with infra.sessions() as session, session.begin():
            await create_controller(
                session=session,
                username="demo",
                role="controller",
                password=PASSWORD,
                now=datetime.now(UTC),
            )
        if seed is not None:
            await seed(infra)
        port = free_port()
        async with served_api(infra, port):
            yield str(port)


async def test_a_cookie_jar_carries_the_login_to_the_staff_views(tmp_path: Path) -> None:
    async with (
        api_on_a_port(tmp_path) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        for path in STAFF_VIEWS:
            assert (await client.get(path)).status_code == 401, path
        # a browser that logged in before the fix still holds a cookie at /control
        client.cookies.set("bf_control", "stale", domain="127.0.0.1", path="/control")

        r = await client.post("/control/api/login", json={"username": "vic", "password": PASSWORD})
        assert r.status_code == 200, r.text
        cookie = r.headers.get_list("set-cookie")[0]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie

        for path in (*STAFF_VIEWS, "/control/api/state", "/control/api/me"):
            r = await client.get(path)
            assert r.status_code == 200, (path, r.text)
            assert r.request.headers["cookie"].count("bf_control=") == 1, path
        assert len((await client.get("/v1/queue")).json()["lanes"]) == 24
        # the stale copy is gone: the only one left is the session's, at /
        assert [c.path for c in client.cookies.jar if c.name == "bf_control"] == ["/"]

        # the cookie now reaches every path, and only the control room's actions check the
        # X-CSRF-Token: no request under /v1 that changes something may take it for a login
        paths = (await client.get("/openapi.json")).json()["paths"]
        writes = [
            (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
            for path, item in paths.items()
            if path.startswith("/v1/")
            for method in item
            if method != "get"
        ]
        assert writes
        for method, path in writes:
            r = await client.request(method, path, json={})
            assert "bf_control=" in r.request.headers["cookie"], path
            assert (r.status_code, r.json()["detail"]) == (
                401,
                "missing API key: send 'Authorization: Bearer <API key>'",
            ), (method, path)

        assert (await client.post("/control/api/logout")).status_code == 204
        assert "bf_control" not in client.cookies
        for path in STAFF_VIEWS:
            assert (await client.get(path)).status_code == 401, path


def _readme_recipe() -> tuple[str, str]:
    """The README's two curl commands, as a reader copies them from its shell blocks (a
    backslash-newline continues a command): log in keeping the cookie in `jar`, read the
    queue."""
    text = README.read_text().replace("\\\n", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    login = [
        c for c in lines if c.startswith("curl ") and "-c jar" in c and "/control/api/login" in c
    ]
    queue = [c for c in lines if c.startswith("curl ") and "-b jar" in c and "/v1/queue" in c]
    assert len(login) == 1 and len(queue) == 1, "the README's control-room curl recipe moved"
    return login[0], queue[0]


async def _sh(command: str, cwd: Path) -> str:
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", f"set -o pipefail; {command}", cwd=cwd, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, (command, out)
    return out.decode()


async def test_the_readme_curl_recipe_reads_the_staff_views(tmp_path: Path) -> None:
    login, queue = _readme_recipe()
    assert "PASSWORD-FROM-MAKE-DEMO" in login and "localhost:8000" in login + queue
    async with api_on_a_port(tmp_path) as port:
        login = login.replace("PASSWORD-FROM-MAKE-DEMO", PASSWORD)

        def here(command: str) -> str:
            return command.replace("localhost:8000", f"localhost:{port}")

        me = json.loads(await _sh(here(login), tmp_path))
        assert (me["username"], me["can_act"]) == ("demo", True)
        assert (tmp_path / "jar").exists()
        # the README pipes the view into a pager-like `head`: the test reads it whole
        queue = queue.split(" | ")[0]
        view = json.loads(await _sh(here(queue), tmp_path))
        assert len(view.get("lanes", [])) == 24, view
        review = json.loads(await _sh(here(queue).replace("/v1/queue", "/v1/review"), tmp_path))
        assert review["items"] == [], review
