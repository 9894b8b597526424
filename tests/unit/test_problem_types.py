"""A refusal raised as a bare HTTPException (a library's, or one added later without a type
of its own) is a problem typed by its status, not `about:blank`: the control room's 403s
and 503s, the static-file 404 were such (df23124 gave each its own type)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, HTTPException

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
