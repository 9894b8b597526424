"""Errors as RFC 9457 problem details (`application/problem+json`), on every route: type,
title, status, detail and, for a refused body, query or header, the fields at fault (dotted
paths, no pydantic URLs, never the input echoed back). An unknown route is a 404 problem,
a body of a type that is not JSON a 415 naming `Content-Type`, and an error nobody foresaw a
500 problem with the request id to quote."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from lanes.errors import UnknownGateError
from lanes.model import Gate
from services.gates.loader import get_gate
from streams.manifests import ID_PATTERN, ID_WORDS

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
_TYPE = "urn:borderflow:problem:"
_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def gate_or_404(gates: Mapping[str, Gate], gate_id: str, *, field: str = "gate") -> Gate:
    """The gate `gate_id` names; 404 `gate: unknown gate ...` when no configured gate has it
    (`field`: the request's name for it, `gate_id` in a control-room action's body)."""
    try:
        return get_gate(gate_id, gates)
    except UnknownGateError as exc:
        raise ProblemError(404, "unknown-gate", str(exc), field=field) from None


class FieldError(BaseModel):
    field: str = Field(
        description="what is at fault: a body field (dotted: `cargo.hs_codes.0`), a query or "
        "path parameter, a header (`Authorization`), a cookie, or `body`"
    )
    message: str = Field(description="what is wrong with it, in words")


# every problem's `type`: `urn:borderflow:problem:<slug>`, never about:blank (RFC 9457's
# default, which the schema showed as the default until 2026-12-06 though none was sent)
PROBLEM_TYPE = r"^urn:borderflow:problem:[a-z0-9]+(-[a-z0-9]+)*$"


_FULL = (
    "slot full: the export slot at 2026-12-07 09:00 local (UTC+07:00) (capacity 60, of which "
    "18 kept for perishable cargo) has no room left for this manifest; choose another slot"
)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class Problem(BaseModel):
    """The body of every error response (RFC 9457 `application/problem+json`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:borderflow:problem:slot-full",
                    "title": "Conflict",
                    "status": 409,
                    "detail": f"slot_start: {_FULL}",
                    "errors": [{"field": "slot_start", "message": _FULL}],
                },
                {
                    "type": "urn:borderflow:problem:not-started",
                    "title": "Service Unavailable",
                    "status": 503,
                    "detail": "control room: not started",
                },
            ]
        }
    )

    type: str = Field(
        pattern=PROBLEM_TYPE,
        description="the kind of refusal, `urn:borderflow:problem:<slug>` (`slot-full`, "
        "`invalid-request`, `unauthorized`, ...: docs/http-api.md lists them); one without a "
        "kind of its own is typed by its status (`urn:borderflow:problem:forbidden`). Never "
        "`about:blank`: switch on it",
        examples=["urn:borderflow:problem:slot-full"],
    )
    title: str = Field(description="the status's phrase (`Conflict`)")
    status: int = Field(ge=400, le=599, description="the HTTP status, as answered")
    detail: str = Field(description="what happened, in words: `field: message` when a field is")
    errors: list[FieldError] | SkipJsonSchema[None] = Field(
        default=None,
        description="each field at fault; left out when nothing the client sent is (a 503, a 500)",
        json_schema_extra=_no_default,
    )


class PageProblem(Problem):
    """A check-in from a driver's page refused: a problem, with the page's own words."""

    message: str | SkipJsonSchema[None] = Field(
        default=None,
        description="what the page says of the booking's state (ended, cancelled), in the "
        "page's language (`?lang=`, else Accept-Language): for the page to show instead of "
        "the English detail",
        json_schema_extra=_no_default,
    )


# An error answer in the OpenAPI document: a problem (`responses=problems(401, 404)`)
PROBLEM_RESPONSE: dict[str, Any] = {
    "model": Problem,
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of a route that may answer these statuses as problems."""
    return dict.fromkeys(statuses, PROBLEM_RESPONSE)


def link(path: str, method: str, description: str, **values: object) -> dict[str, Any]:
    """An OpenAPI link to the operation `method` `path`: each of `values` (a parameter's
    name, or `requestBody`) taken from this answer (a runtime expression such as
    `$response.body#/booking_id`), so a reader or a stateful client sees the workflow."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    body = values.pop("requestBody", None)
    return {
        "operationRef": f"#/paths/{pointer}/{method}",
        "description": description,
        **({"parameters": values} if values else {}),
        **({"requestBody": body} if body is not None else {}),
    }


def links(*statuses: int, **to: dict[str, Any]) -> dict[str, Any]:
    """A route's `openapi_extra` adding the links `to` (name -> `link(...)`) to the answers
    of `statuses`."""
    return {"responses": {str(status): {"links": to} for status in statuses}}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """What every route answers that FastAPI does not document itself, added to `schema` (an
    OpenAPI document): an operation that takes a body may also answer 400 (not valid JSON),
    413 (over 1 MiB) and 415 (not JSON); and a 422 is a problem (`application/problem+json`),
    not FastAPI's `HTTPValidationError` as `application/json` (found by a schema-driven
    client: schemathesis flagged every 422 and 400 as undocumented); a problem answer is
    documented as `application/problem+json` only, as it is sent."""
    problem = {"content": PROBLEM_RESPONSE["content"]}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            answers = operation.setdefault("responses", {})
            if "422" in answers:
                answers["422"] = {"description": answers["422"]["description"], **problem}
            else:
                # every route refuses a query parameter no database can store (NUL, a lone
                # surrogate: services/api/strict.py), and a firm's route one it does not take:
                # `/v1/firm/settings?x=1` answered a 422 its operation did not document
                answers["422"] = {"description": _UNPROCESSABLE, **problem}
            for answer in answers.values():
                # a route's `problems(...)` answer: FastAPI adds the model as JSON beside it
                content = answer.get("content", {})
                if PROBLEM_JSON in content:
                    content.pop("application/json", None)
            if "requestBody" in operation:
                for status in ("400", "413", "415"):
                    answers.setdefault(
                        status, {"description": HTTPStatus(int(status)).phrase, **problem}
                    )
    schemas = schema.get("components", {}).get("schemas", {})
    if '"#/components/schemas/PageProblem"' in json.dumps(schema.get("paths", {})):
        # the drivers' page check-in's 409 (services/drivers/routes.py names it by its $ref:
        # the drivers' package does not import the API's)
        page = PageProblem.model_json_schema(ref_template="#/components/schemas/{model}")
        page.pop("$defs", None)
        schemas["PageProblem"] = page
    # FastAPI's own validation-error models, no longer referenced: dropped
    fastapi_own = {"HTTPValidationError", "ValidationError"}
    rest = json.dumps(
        [schema.get("paths", {}), {k: v for k, v in schemas.items() if k not in fastapi_own}]
    )
    if not any(f'"#/components/schemas/{name}"' in rest for name in fastapi_own):
        for name in fastapi_own:
            schemas.pop(name, None)
    return schema


_UNPROCESSABLE = (
    "a query parameter refused: one the operation does not take, or text no database can "
    "store (NUL, a lone surrogate), naming it"
)


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
    type_: str,
    errors: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """`extensions`: members added to the problem (RFC 9457 3.2), after the standard ones."""
    body = Problem(
        type=type_,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        errors=list(errors) if errors is not None else None,
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True) | dict(extensions or {}),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_JSON,
    )


def field_errors(errors: Sequence[Any]) -> list[FieldError]:
    out = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ())]
        if loc and loc[0] in _LOCATIONS:
            where, loc = loc[0], loc[1:]
        else:
            where = "body"
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if (
            error.get("type") == "string_pattern_mismatch"
            and (error.get("ctx") or {}).get("pattern") == ID_PATTERN
        ):
            # an id (a booking's in a path, a page cursor, a gate): said in words, not as
            # the regex ("String should match pattern '^[A-Za-z0-9]...'")
            message = ID_WORDS
        if not loc and where == "body":
            if error.get("type") == "missing":
                message = "the request has no body: send it as JSON"
            elif error.get("type") == "model_attributes_type":
                message = "expected a JSON object (Content-Type: application/json)"
        out.append(FieldError(field=".".join(loc) or where, message=message))
    return out


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def _on_validation(request: Request, exc: Exception) -> Response:
    # Every route answers an invalid request as a problem (found by a stranger's try: a
    # login body that did not validate came back in FastAPI's own form, the input echoed)
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    content_type = request.headers.get("content-type")
    if (
        content_type is not None
        and not _is_json(content_type)
        and any(e.get("loc", ("",))[0] == "body" for e in errors)
    ):
        # A body sent as text/plain, a form, XML...: FastAPI does not parse it as JSON, so
        # its fields all read as missing; the type is what is wrong (found by a stranger)
        media = content_type.split(";", 1)[0].strip()[:100] or "(empty)"
        message = f"{media} is not accepted: send the body as application/json"
        return problem_response(
            415,
            message,
            type_=_TYPE + "unsupported-media-type",
            errors=[FieldError(field="Content-Type", message=message)],
        )
    if content_type is None and any(
        tuple(e.get("loc", ())) == ("body",) and e.get("type") == "model_attributes_type"
        for e in errors
    ):
        # A body sent with no Content-Type at all (curl without the header, http.client):
        # FastAPI hands it over unparsed, so it read as "expected a JSON object" though it
        # was one; the missing type is what is wrong (found by a firm's integrator)
        message = "no Content-Type: send the body as application/json"
        return problem_response(
            415,
            message,
            type_=_TYPE + "unsupported-media-type",
            errors=[FieldError(field="Content-Type", message=message)],
        )
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
    if slug is None and exc.status_code == 400:
        # FastAPI's own refusal of a body it cannot decode (e.g. bytes that are not UTF-8),
        # or one nested past the parser's recursion limit: that is told as such, not as a
        # matter of UTF-8 (found by a firm's integrator: 5,000 nested arrays)
        if isinstance(exc.__cause__, RecursionError):
            message = (
                "not readable as JSON: nested too deeply (arrays or objects inside one another)"
            )
        else:
            message = f"not readable as JSON ({exc.detail}): send UTF-8 JSON"
        return problem_response(
            400,
            f"the request body is {message}",
            type_=_TYPE + "invalid-json",
            errors=[FieldError(field="body", message=message)],
        )
    detail = str(exc.detail)
    headers = exc.headers
    if (
        slug is None
        and exc.status_code in {404, 405}
        and detail == HTTPStatus(exc.status_code).phrase
    ):
        # Starlette's own answer for a route or a method that does not exist
        what = "no such route" if exc.status_code == 404 else "method not allowed on this route"
        detail = f"{what}: {request.method} {request.url.path[:200]}"
        if exc.status_code == 404:
            redirect = _slash_redirect(request)
            if redirect is not None:
                return redirect
            # typed, the path at fault named (was about:blank); the detail as it was
            return problem_response(
                404,
                detail,
                type_=_TYPE + "no-such-route",
                errors=[FieldError(field="path", message="no route has this path")],
                headers=headers,
            )
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            if allowed:
                headers = {**(headers or {}), "Allow": allowed}
            # the method at fault, named as every refused field is
            takes = f"; this route takes {allowed}" if allowed else ""
            return problem_response(
                405,
                detail,
                type_=_TYPE + "method-not-allowed",
                errors=[
                    FieldError(field="method", message=f"{request.method} is not allowed{takes}")
                ],
                headers=headers,
            )
    # an HTTPException raised without a type of its own (a library's, one added later) is
    # typed by its status (`urn:borderflow:problem:forbidden`), never about:blank
    return problem_response(
        exc.status_code,
        detail,
        type_=_TYPE + (slug or _status_slug(exc.status_code)),
        errors=getattr(exc, "errors", None),
        headers=headers,
    )


def _status_slug(status: int) -> str:
    """`forbidden`, `service-unavailable`: the status's phrase as a slug."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return f"status-{status}"
    return "-".join(phrase.lower().replace("'", "").split())


def _slash_redirect(request: Request) -> Response | None:
    """A path that has a route with its trailing slash added or taken away: redirected
    there as Starlette does (307, the method and body kept), with a problem body that says
    why, for a client that does not follow redirects (curl without -L printed nothing).
    A GET of the page at `/control/` is redirected to `/control` the same way."""
    path = request.url.path
    if path == "/":
        return None
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    scope = {**request.scope, "path": other}
    if not any(r.matches(scope)[0] is not Match.NONE for r in request.app.router.routes):
        return None
    location = str(request.url.replace(path=other))
    slash = "without" if path.endswith("/") else "with"
    detail = (
        f"{request.method} {path[:200]}: this route is {other[:200]}, {slash} the trailing "
        "slash; the request is redirected there (curl: drop the slash, or add -L)"
    )
    # not a problem (RFC 9457 is for errors, and Problem.status is 400-599): a JSON body
    return JSONResponse(
        {"status": 307, "detail": detail, "location": location},
        status_code=307,
        headers={"Location": location},
    )


def _allowed_methods(request: Request) -> str:
    """Every method the path takes, for a 405's `Allow` (Starlette names only the methods of
    the first route on the path: `POST` for `/v1/bookings`, which takes GET too). Each
    method is tried on the routes as a request would be, included routers and all."""
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    )


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


BUSY_RETRY_AFTER_S = 5
BUSY_DETAIL = "database: busy (another writer held it past the wait); not applied, try again"


def database_busy(exc: BaseException) -> bool:
    """SQLite's `database is locked`: another writer (the decider under a busy gate) held
    its lock past the busy timeout; the transaction did not start, nothing was written."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    """The last resort: an error nobody foresaw is logged with its traceback and answered as
    a problem (500) carrying the request id to quote, never as Starlette's plain text. A
    database busy past its wait is foreseen wherever it happens: 503, try again (a
    control-room login under `borderflow up` on a loaded machine answered 500, 2026-12-06)."""
    if database_busy(exc):
        log.warning("database busy on %s %s: answered 503", request.method, request.url.path)
        return problem_response(
            503,
            BUSY_DETAIL,
            type_=_TYPE + "database-busy",
            headers={"Retry-After": str(BUSY_RETRY_AFTER_S)},
        )
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
