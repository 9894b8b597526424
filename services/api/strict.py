"""Unknown query parameters are refused, not ignored: `?limt=10` answers a 422 that names
`limt` and lists the parameters the operation takes, instead of a silent default."""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from services.api.problems import ProblemError


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _known(route: APIRoute) -> frozenset[str]:
    known: frozenset[str] | None = getattr(route, "_borderflow_query_names", None)
    if known is None:
        known = frozenset(_query_names(route.dependant))
        route._borderflow_query_names = known  # type: ignore[attr-defined]
    return known


async def reject_unknown_query(request: Request) -> None:
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _known(route)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        raise ProblemError(
            422,
            "unknown-parameter",
            f"unknown query parameter {unknown[0]!r} (this operation takes: {takes})",
            field=unknown[0] or "query",
        )
