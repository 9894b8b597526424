"""`/v1/manifests`: a firm submits and reads its own electronic manifests (Bearer API key)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from lanes.filing import StoredManifest, StoreStatus
from services.adapters.manifest_intake import sql_manifest_stores
from services.api.auth import FirmDep, SessionsDep
from services.api.booking_schemas import Cursor, ManifestIdPath
from services.api.problems import PROBLEM_RESPONSE, ProblemError, link, links
from services.api.schemas import ManifestPage, ManifestSubmitted, ManifestView
from services.db.convert import manifest_payload
from services.db.manifests import get_manifest, list_manifests
from services.service_layer.manifests import FileManifests, FileManifestsHandler
from streams import clock
from streams.manifests import ManifestV1

router = APIRouter(prefix="/v1/manifests", tags=["manifests"])

_PROBLEM = PROBLEM_RESPONSE
_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {401: _PROBLEM, 422: _PROBLEM, 429: _PROBLEM}
# the workflow, for a reader and a stateful client: a manifest, then its booking
_SUBMITTED_LINKS = links(
    201,
    200,
    GetManifest=link(
        "/v1/manifests/{manifest_id}",
        "get",
        "the manifest as stored",
        manifest_id="$response.body#/manifest_id",
    ),
    BookManifest=link(
        "/v1/bookings",
        "post",
        "book a slot for it (`slot_start` a slot `GET /v1/slots` lists as open)",
        requestBody={"manifest_id": "$response.body#/manifest_id"},
    ),
)


def _view(stored: StoredManifest) -> dict[str, Any]:
    return manifest_payload(stored.manifest) | {
        "version": stored.version,
        "updated_at": stored.updated_at,
    }


@router.post(
    "",
    status_code=201,
    response_model=ManifestSubmitted,
    responses={
        **_AUTH_ERRORS,
        200: {"model": ManifestSubmitted, "description": "updated, or unchanged"},
        400: _PROBLEM,
        403: _PROBLEM,
        409: _PROBLEM,
    },
    summary="Submit a manifest (created: 201; a new version or the same again: 200)",
    openapi_extra=_SUBMITTED_LINKS,
)
async def submit_manifest(body: ManifestV1, firm: FirmDep, sessions: SessionsDep) -> JSONResponse:
    if body.firm_id is not None and body.firm_id != firm:
        raise ProblemError(
            403,
            "firm-mismatch",
            f"{body.firm_id!r} is not the firm of this API key ({firm!r}); "
            "leave firm_id out or send your own",
            field="firm_id",
        )
    file = FileManifestsHandler(uow=sql_manifest_stores(sessions))
    [result] = await file(
        FileManifests(
            (body.to_domain(firm_id=firm),), source="http", now=clock.wall_clock(), firm_scope=firm
        )
    )
    if result.stored is None:  # the reason reads "field: ..." (the use case's words)
        reason = result.reason or "refused"
        # lanes.filing.booked_change's fields, then booked_off_window's
        for booked in ("direction", "perishable", "window_start", "window_end"):
            if reason.startswith(f"{booked}: "):
                raise ProblemError(
                    409, "manifest-booked", reason.removeprefix(f"{booked}: "), field=booked
                )
        reason = reason.removeprefix("manifest_id: ")
        raise ProblemError(409, "manifest-id-taken", reason, field="manifest_id")
    view = ManifestSubmitted.model_validate(_view(result.stored) | {"status": result.status})
    return JSONResponse(
        view.model_dump(mode="json"),
        status_code=201 if result.status is StoreStatus.CREATED else 200,
        headers={"Location": f"/v1/manifests/{quote(result.manifest_id, safe='')}"},
    )


@router.get(
    "/{manifest_id}",
    response_model=ManifestView,
    responses={**_AUTH_ERRORS, 404: _PROBLEM},
    summary="One of your firm's manifests",
)
async def read_manifest(
    manifest_id: ManifestIdPath, firm: FirmDep, sessions: SessionsDep
) -> ManifestView:
    async with sessions() as session:
        stored = await get_manifest(session=session, firm_id=firm, manifest_id=manifest_id)
    if stored is None:  # another firm's id reads as missing: ids reveal nothing
        raise ProblemError(
            404, "manifest-not-found", f"no manifest {manifest_id!r}", field="manifest_id"
        )
    return ManifestView.model_validate(_view(stored))


@router.get(
    "",
    response_model=ManifestPage,
    responses=_AUTH_ERRORS,
    summary="Your firm's manifests, by id, a page at a time",
)
async def list_own_manifests(
    firm: FirmDep,
    sessions: SessionsDep,
    limit: Annotated[int, Query(ge=1, le=500, description="manifests per page")] = 50,
    after: Cursor = None,
) -> ManifestPage:
    async with sessions() as session:
        page = await list_manifests(session=session, firm_id=firm, limit=limit + 1, after=after)
    more = len(page) > limit
    page = page[:limit]
    return ManifestPage(
        items=[ManifestView.model_validate(_view(s)) for s in page],
        next=page[-1].manifest.manifest_id if more else None,
    )
