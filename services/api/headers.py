"""The response headers a client acts on, in the OpenAPI document: the document named none,
so a client generated from it could not read where a created manifest or booking lives
(`Location`), whether a booking was a replay (`Idempotent-Replayed`), how long to wait
after a 429 (`Retry-After`), why a key was refused (`WWW-Authenticate`) or which check-in
stands (`Check-In-Repeated`). `tests/integration/test_openapi_responses.py` holds real
answers to it."""

from __future__ import annotations

from typing import Any

_SECONDS = {"type": "string", "pattern": "^[1-9][0-9]*$"}
RETRY_AFTER = {
    "description": "seconds to wait before trying again (whole seconds, at least 1)",
    "required": True,
    "schema": _SECONDS,
}
WWW_AUTHENTICATE = {
    "description": 'the challenge: `Bearer realm="borderflow"`, with `error="invalid_token"` '
    'for a key unknown or revoked, `error="invalid_request"` for a header not `Bearer <key>`',
    "required": True,
    "schema": {"type": "string"},
}
# the gate-wide views' (services/api/staff.py); the control room's own 401 has none
STAFF_CHALLENGE = {
    "description": 'on a gate-wide view, `Cookie realm="borderflow-control"`: a control-room '
    "login is needed (POST /control/api/login)",
    "schema": {"type": "string"},
}
_UTC = {"type": "string", "format": "date-time"}


def _location(what: str) -> dict[str, Any]:
    return {"description": what, "required": True, "schema": {"type": "string"}}


# (method, path, status) -> the headers that answer carries besides the general ones
_ANSWERS: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {
    ("post", "/v1/manifests", "201"): {"Location": _location("the manifest's URL (a path)")},
    ("post", "/v1/manifests", "200"): {"Location": _location("the manifest's URL (a path)")},
    ("post", "/v1/bookings", "201"): {
        "Location": _location("the booking's URL (a path)"),
        "Idempotent-Replayed": {
            "description": "`true`: the answer of an earlier request with this "
            "Idempotency-Key and body, replayed as it was then (a booking since "
            "rescheduled or cancelled reads as it was booked: GET its Location for it "
            "now); nothing was booked again",
            "schema": {"type": "string", "enum": ["true"]},
        },
    },
    ("post", "/v1/bookings/{booking_id}/check-in", "200"): {
        "Check-In-Repeated": {
            "description": "a check-in less than 5 minutes before stands (its time, UTC): "
            "this one recorded nothing",
            "schema": _UTC,
        }
    },
    ("post", "/d/{token}/check-in", "200"): {
        "Check-In-Repeated": {
            "description": "a check-in less than 5 minutes before stands (its time, UTC)",
            "schema": _UTC,
        }
    },
    ("get", "/d/c/{code}", "303"): {"Location": _location("the truck's page, `/d/{token}`")},
    ("get", "/d", "303"): {"Location": _location("the truck's page, `/d/{token}`")},
}


def document_headers(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` (an OpenAPI document) with the headers of its answers: `Retry-After` on
    every 429, `WWW-Authenticate` on every 401 (required where a firm's key is taken), and
    those of `_ANSWERS`."""
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            answers = operation.get("responses", {})
            keyed = any("HTTPBearer" in s for s in operation.get("security", []))
            for status, answer in answers.items():
                headers: dict[str, Any] = {}
                if status == "429":
                    headers["Retry-After"] = RETRY_AFTER
                if status == "401":
                    headers["WWW-Authenticate"] = WWW_AUTHENTICATE if keyed else STAFF_CHALLENGE
                headers |= _ANSWERS.get((method, path, status), {})
                if headers:
                    answer["headers"] = answer.get("headers", {}) | headers
    return schema
