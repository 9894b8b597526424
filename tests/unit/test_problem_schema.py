"""The OpenAPI document's `Problem` says what the API sends: `type` is always there and is
`urn:borderflow:problem:<slug>` (the schema showed `about:blank` as its default, and did not
require it, though every refusal has had a type of its own since df23124 and ecaf64f: a
client generated from the document defaulted a missing type to about:blank and could not
switch on it), `status` is an error status, `errors` is a list when present (never null),
and the examples are problems the API could send."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi import FastAPI, HTTPException

from services.api.app import create_app
from services.api.problems import ProblemError, install_problem_handlers

DOCUMENT = create_app(context_factory=lambda: None).openapi()
SCHEMA = DOCUMENT["components"]["schemas"]["Problem"]


def _validator() -> jsonschema.Draft202012Validator:
    schema = {"$ref": "#/components/schemas/Problem", "components": DOCUMENT["components"]}
    return jsonschema.Draft202012Validator(schema)


def test_the_type_is_required_and_is_a_borderflow_urn() -> None:
    assert "type" in SCHEMA["required"]
    assert "default" not in SCHEMA["properties"]["type"]
    assert "about:blank" not in json.dumps(SCHEMA).replace("Never `about:blank`", "")
    validator = _validator()
    untyped = {"title": "Conflict", "status": 409, "detail": "x"}
    assert not validator.is_valid(untyped)
    assert not validator.is_valid(untyped | {"type": "about:blank"})
    assert validator.is_valid(untyped | {"type": "urn:borderflow:problem:slot-full"})


def test_errors_is_a_list_when_present_never_null() -> None:
    validator = _validator()
    problem = {"type": "urn:borderflow:problem:x", "title": "Conflict", "status": 409}
    problem |= {"detail": "x"}
    assert validator.is_valid(problem)
    assert validator.is_valid(problem | {"errors": [{"field": "a", "message": "b"}]})
    assert not validator.is_valid(problem | {"errors": None})


def test_the_examples_are_valid_problems() -> None:
    examples = SCHEMA["examples"]
    assert examples
    for example in examples:
        _validator().validate(example)
        assert example["title"] == HTTPStatus(example["status"]).phrase


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/bare/{status}")
    async def bare(status: int) -> None:
        raise HTTPException(status_code=status, detail="refused")

    @app.get("/typed")
    async def typed() -> None:
        raise ProblemError(409, "slot-full", "full", field="slot_start")

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("nobody foresaw it")

    return app


ERROR_STATUSES = [s.value for s in HTTPStatus if s.value >= 400]


@pytest.mark.parametrize("path", [f"/bare/{s}" for s in ERROR_STATUSES] + ["/typed", "/crash"])
async def test_every_problem_the_handlers_send_is_valid_by_the_document(path: str) -> None:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.get(path)
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    _validator().validate(body)
