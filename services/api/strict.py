"""Unknown query parameters are refused, not ignored: `?limt=10` answers a 422 that names
`limt` and lists the parameters the operation takes, instead of a silent default; a
parameter that takes one value, given twice (`?after=a&after=b`), is refused the same way
instead of the last one winning; so is a JSON body's member given twice in one object
(`{"manifest_id": "A-1", "manifest_id": "A-2"}`: parsers disagree on which counts, so a
gateway or a client library may have read the other). Text that cannot be stored (NUL, lone
surrogates) is refused on every route, with the field named."""

from __future__ import annotations

import json

from fastapi import Request
from fastapi._compat import field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from services.api.problems import ProblemError
from streams.jsonbody import repeated_member
from streams.text import unstorable_text


def _query_names(dependant: Dependant) -> dict[str, bool]:
    """Each query parameter's name -> whether it takes several values (a list)."""
    names = {
        param.alias: field_annotation_is_sequence(param.field_info.annotation)
        for param in dependant.query_params
    }
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _known(route: APIRoute) -> dict[str, bool]:
    known: dict[str, bool] | None = getattr(route, "_borderflow_query_names", None)
    if known is None:
        known = _query_names(route.dependant)
        route._borderflow_query_names = known  # type: ignore[attr-defined]
    return known


async def reject_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _known(route)
    unknown = sorted(set(request.query_params) - known.keys())
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        raise ProblemError(
            422,
            "unknown-parameter",
            f"unknown query parameter {unknown[0]!r} (this operation takes: {takes})",
            field=unknown[0] or "query",
        )
    for name in request.query_params:
        given = len(request.query_params.getlist(name))
        if given > 1 and not known[name]:
            raise ProblemError(
                422,
                "repeated-parameter",
                f"query parameter {name!r} takes one value and was given {given}",
                field=name,
            )


async def reject_unstorable_text(request: Request) -> None:
    """A JSON body or a query parameter with text no database can store (NUL, a lone
    surrogate: `streams.text`) is refused with a 422 that names the field, before it can
    reach the database as a 500. Applied to every route of the app."""
    for name, value in request.query_params.multi_items():
        if (bad := unstorable_text(value, name)) is not None:
            raise ProblemError(422, "invalid-text", bad.split(": ", 1)[1], field=name)
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    raw = await request.body()  # cached: FastAPI parses the same bytes afterwards
    if b"\\u" not in raw and b"\x00" not in raw:  # neither escape nor NUL: nothing to find
        return
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return  # not JSON, or nested too deep to parse: the route's own parsing answers (400)
    if (bad := unstorable_text(body)) is not None:
        field, message = bad.split(": ", 1)
        raise ProblemError(422, "invalid-text", message, field=field)


async def reject_repeated_members(request: Request) -> None:
    """A JSON body with a member given twice in one object is refused with a 422 naming it
    (`repeated-member`), on every route, instead of the last one winning silently."""
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        return  # not read as JSON: the route answers (415, or no body taken)
    raw = await request.body()  # cached: FastAPI parses the same bytes afterwards
    if (found := repeated_member(raw)) is not None:
        field, count = found
        raise ProblemError(
            422,
            "repeated-member",
            f"given {count} times in one JSON object; send each member once",
            field=field,
        )
