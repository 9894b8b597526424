"""Errors of the /v1 API as RFC 9457 problem details (`application/problem+json`): type,
title, status, detail and, for a refused body or query, the fields at fault (dotted paths,
no pydantic URLs). Other routes (/health, /docs, the control room's API) keep FastAPI's own
error bodies, except for a `ProblemError` (its own problem type: e.g. text that cannot be
stored, refused on every route) and the last-resort 500, which are problems everywhere."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from lanes.errors import UnknownGateError
from lanes.model import Gate
from services.gates.loader import get_gate

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
_TYPE = "urn:borderflow:problem:"
_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def gate_or_404(gates: Mapping[str, Gate], gate_id: str) -> Gate:
    """The gate `gate_id` names; 404 `gate: unknown gate ...` when no configured gate has it."""
    try:
        return get_gate(gate_id, gates)
    except UnknownGateError as exc:
        raise ProblemError(404, "unknown-gate", str(exc), field="gate") from None


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """The body of every /v1 error response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class ProblemError(HTTPException):
    """An HTTP error with a problem type of its own (`urn:borderflow:problem:<slug>`). With
    `field`, the detail reads `field: message` and `errors` names the field at fault."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        text = detail if field is None else f"{field}: {detail}"
        super().__init__(status_code=status, detail=text, headers=dict(headers or {}))
        self.slug = slug
        self.errors = None if field is None else [FieldError(field=field, message=detail)]


def problem_response(
    status: int,
    detail: str,
    *,
    type_: str = "about:blank",
    errors: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=type_,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        errors=list(errors) if errors is not None else None,
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_JSON,
    )


def _is_v1(request: Request) -> bool:
    return request.url.path.startswith("/v1/") or request.url.path == "/v1"


def field_errors(errors: Sequence[Any]) -> list[FieldError]:
    out = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ())]
        if loc and loc[0] in _LOCATIONS:
            where, loc = loc[0], loc[1:]
        else:
            where = "body"
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if not loc and where == "body":
            if error.get("type") == "missing":
                message = "the request has no body: send the manifest as JSON"
            elif error.get("type") == "model_attributes_type":
                message = "expected a JSON object (Content-Type: application/json)"
        out.append(FieldError(field=".".join(loc) or where, message=message))
    return out


# Beside /v1, the control room's and the drivers' JSON routes answer an invalid request as
# a problem too (found by a stranger's try: a login body that did not validate came back in
# FastAPI's own form, the input echoed back)
_PROBLEM_PREFIXES = ("/control/api/", "/d/")


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not (_is_v1(request) or request.url.path.startswith(_PROBLEM_PREFIXES)):
        return await request_validation_exception_handler(request, exc)
    errors = list(exc.errors())
    broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if broken is not None:
        reason = (broken.get("ctx") or {}).get("error", "malformed")
        where = broken["loc"][-1] if len(broken.get("loc", ())) > 1 else "?"
        message = f"not valid JSON: {reason} (at character {where})"
        return problem_response(
            400,
            f"the request body is {message}",
            type_=_TYPE + "invalid-json",
            errors=[FieldError(field="body", message=message)],
        )
    fields = field_errors(errors)
    return problem_response(
        422,
        "; ".join(f"{e.field}: {e.message}" for e in fields),
        type_=_TYPE + "invalid-request",
        errors=fields,
    )


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    slug = getattr(exc, "slug", None)
    if slug is None and not _is_v1(request):
        return await http_exception_handler(request, exc)
    if slug is None and exc.status_code == 400:
        # FastAPI's own refusal of a body it cannot decode (e.g. bytes that are not UTF-8).
        message = f"not readable as JSON ({exc.detail}): send UTF-8 JSON"
        return problem_response(
            400,
            f"the request body is {message}",
            type_=_TYPE + "invalid-json",
            errors=[FieldError(field="body", message=message)],
        )
    return problem_response(
        exc.status_code,
        str(exc.detail),
        type_=_TYPE + slug if slug else "about:blank",
        errors=getattr(exc, "errors", None),
        headers=exc.headers,
    )


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    """The last resort: an error nobody foresaw is logged with its traceback and answered as
    a problem (500) carrying the request id to quote, never as Starlette's plain text."""
    request_id = str(request.scope.get("borderflow.request_id") or "-")
    log.error(
        "unexpected error on %s %s (request %s)",
        request.method,
        request.url.path,
        request_id,
        exc_info=exc,
    )
    return problem_response(
        500,
        f"unexpected error; quote request id {request_id} when reporting it",
        type_=_TYPE + "internal-error",
        headers={"X-Request-ID": request_id},
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
