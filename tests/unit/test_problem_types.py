"""A refusal raised as a bare HTTPException (a library's, or one added later without a type
of its own) is a problem typed by its status, not `about:blank`: the control room's 403s
and 503s, the static-file 404 were such (df23124 gave each its own type)."""

from __future__ import annotations

import sqlite3

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from sqlalchemy.exc import OperationalError

from services.api.problems import install_problem_handlers


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/refuse/{status}")
    async def refuse(status: int) -> None:
        raise HTTPException(status_code=status, detail="refused as it is")

    return app


@pytest.mark.parametrize(
    ("status", "slug"),
    [(403, "forbidden"), (404, "not-found"), (409, "conflict"), (503, "service-unavailable")],
)
async def test_a_bare_http_exception_is_typed_by_its_status(status: int, slug: str) -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.get(f"/refuse/{status}")
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"] == f"urn:borderflow:problem:{slug}"
    assert body["detail"] == "refused as it is"


async def test_a_database_locked_past_the_wait_is_503_to_try_again() -> None:
    """SQLite's writer lock held past the busy timeout (the decider under a busy gate) is a
    503 with Retry-After wherever it happens, nothing written: a control-room login under
    `borderflow up` on a loaded machine answered 500 "unexpected error" (2026-12-06)."""
    app = _app()

    @app.post("/write")
    async def write() -> None:
        raise OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))

    @app.post("/broken")
    async def broken() -> None:
        raise OperationalError("SELECT ...", {}, sqlite3.OperationalError("no such table: x"))

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        busy, other = await client.post("/write"), await client.post("/broken")
    assert (busy.status_code, busy.headers["retry-after"]) == (503, "5")
    assert busy.json()["type"] == "urn:borderflow:problem:database-busy"
    assert busy.json()["detail"].startswith("database: busy")
    assert other.status_code == 500  # anything else stays the last resort
