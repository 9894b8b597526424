"""The control room's HTTP side: the page and its static files, the gate's state, the live
stream (Server-Sent Events) and the actions. Mounted by `services/api/app.py`."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from html import escape
from importlib import resources
from typing import Annotated, Any, Literal

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Query, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from lanes.actions import ActionRefused, UnknownTarget
from services.api.problems import FieldError, ProblemError, problems
from services.control import auth
from services.control.alerts import router as alerts_router
from services.control.apply import ActionNotFound, apply_action
from services.control.apply import Request as ActionRequest
from services.control.auth import ActorDep, SessionDep
from services.control.reasons import Reason
from services.control.state import ControlRoom, RoomDep, control_room
from services.runtime.stopping import unless_stopping
from streams.manifests import ID_PATTERN, normalise_id

router = APIRouter(lifespan=control_room)
router.include_router(auth.router)
router.include_router(alerts_router)  # issue 22: the controllers' alert workflow

WEB = resources.files("services") / "web"
STATIC = {"control.js": "text/javascript", "control.css": "text/css"}
STATIC["xborder.js"] = "text/javascript"  # the other side of the gate (issue 21)


def control_csp(image_sources: Sequence[str] = ()) -> str:
    """The page's Content-Security-Policy: no inline script or style, its own files only;
    images from itself, data: and `image_sources` (BORDERFLOW_CONTROL_IMAGE_SOURCES, origins
    checked by services/control/settings.py). It allowed images from any http(s) URL, so a
    plate read's image_ref (anyone producing plate reads writes it) made every controller's
    browser fetch whatever URL it named (found by a security review)."""
    images = " ".join(("'self'", "data:", *image_sources))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


CSP = control_csp()  # no image source configured, and the page's files
IMAGE_SOURCES_META = '<meta name="bf-image-sources" content="">'
SESSION_RECHECK_S = 5.0  # how often an open stream checks that its session still holds
_NEEDS: dict[str, tuple[str, ...]] = {
    "pick_manifest": ("visit_id", "manifest_id"),
    "confirm_plate": ("visit_id", "plate"),
    "reassign": ("visit_id", "lane_id"),
    "hold": ("visit_id",),
    "release": ("visit_id",),
    "turn_away": ("visit_id",),
    "open_lane": ("lane_id",),
    "close_lane": ("lane_id",),
    "carrier_out": ("carrier_id",),
    "carrier_back": ("carrier_id",),
}


# An action's manifest id as the document states it: the id alphabet, or nothing (blanks
# only are nothing: `_needed_by_the_action` names it when the action needs one)
_ID_OR_NOTHING = f"^(?:{ID_PATTERN.removeprefix('^').removesuffix('$')})?$"


def _web_file(name: str, media_type: str) -> Response:
    path = WEB / name
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
    return FileResponse(str(path), media_type=media_type, headers=headers)


def _image_sources(request: Request) -> tuple[str, ...]:
    """The configured image origins; none before the control room has started."""
    room: ControlRoom | None = getattr(request.app.state, "control_room", None)
    return () if room is None else room.settings.image_sources


@router.get("/", include_in_schema=False)
async def root() -> RedirectResponse:
    return RedirectResponse("/control", status_code=307)


@router.get("/control", include_in_schema=False)
async def page(request: Request) -> Response:
    """The page, its CSP's img-src and the image origins its script shows images from
    (the `bf-image-sources` meta) from the same settings: an image_ref elsewhere is a link."""
    sources = _image_sources(request)
    html = (WEB / "control.html").read_text(encoding="utf-8")
    meta = IMAGE_SOURCES_META.replace('content=""', f'content="{escape(" ".join(sources))}"')
    headers = {"Content-Security-Policy": control_csp(sources), "X-Content-Type-Options": "nosniff"}
    return HTMLResponse(html.replace(IMAGE_SOURCES_META, meta), headers=headers)


@router.get("/control/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    if name not in STATIC:
        refused = ProblemError(404, "not-found", f"no static file {name!r}")
        refused.errors = [FieldError(field="name", message="no such static file")]
        raise refused
    return _web_file(name, STATIC[name])


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    """The site's icon (an SVG, which browsers take at this address): every page of the
    control room and the drivers' pages asked for it and logged a 404 in the console."""
    answer = _web_file("favicon.svg", "image/svg+xml")
    answer.headers["Cache-Control"] = "public, max-age=86400"
    return answer


@router.get("/control/api/state", tags=["control room"], responses=problems(401, 404, 503))
async def state(
    room: RoomDep, _: SessionDep, gate: Annotated[str | None, Query()] = None
) -> Response:
    """The gate's current snapshot (what the stream pushes), for a viewer or a controller."""
    published = await room.hub.current(room.gate(gate).gate_id)
    return Response(published.data, media_type="application/json", headers=auth.NO_STORE)


@router.get(
    "/control/api/stream",
    tags=["control room"],
    response_class=StreamingResponse,
    # an event stream, not JSON (the document said application/json, any value)
    responses={
        200: {
            "description": "Server-Sent Events: `state` (the snapshot), then `patch` after "
            "each change, keep-alive comments, `bye` at the end",
            "content": {"text/event-stream": {}},
        },
        **problems(401, 404, 503),
    },
)
async def stream(
    request: Request, room: RoomDep, _: SessionDep, gate: Annotated[str | None, Query()] = None
) -> StreamingResponse:
    """Server-Sent Events: the gate's snapshot at once (`event: state`, `id` its seq), then
    after every change what changed (`event: patch`: `base`, the seq it applies to, `seq`
    and `diff`, see `services.control.patch`), or the whole snapshot again when the page
    missed one; a comment every 5 s keeps the line alive. The session is checked again every
    5 s: a disabled or logged-out controller's stream ends (`event: bye`). The stream ends
    after `stream_lifetime_s` with `event: bye`; the page reconnects and catches up."""
    gate_id = room.gate(gate).gate_id
    lifetime = room.settings.stream_lifetime_s
    context = getattr(request.app.state, "context", None)
    stopping: asyncio.Event = getattr(context, "stopping", None) or asyncio.Event()

    async def events() -> AsyncIterator[str]:
        ends = time.monotonic() + lifetime
        checked = time.monotonic()
        async with room.hub.subscribe(gate_id) as queue:
            current = await room.hub.current(gate_id)
            yield "retry: 1000\n"
            yield _event(current.seq, current.data)
            last = current.seq
            while (left := ends - time.monotonic()) > 0:
                if time.monotonic() - checked >= SESSION_RECHECK_S:
                    # a controller disabled, logged out or expired mid-stream stops seeing
                    # the board within SESSION_RECHECK_S; the page reconnects and gets a 401
                    try:
                        await auth.logged_in(request, room.sessions)
                    except auth.NotLoggedIn as exc:
                        yield f"event: bye\ndata: {json.dumps({'reason': str(exc)})}\n\n"
                        return
                    checked = time.monotonic()
                if stopping.is_set():
                    yield 'event: bye\ndata: {"reason": "server stopping"}\n\n'
                    return
                try:
                    wait = min(SESSION_RECHECK_S, left)
                    item = await unless_stopping(queue.get(), stopping, wait)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": keep-alive\n\n"
                    continue
                if item is None:  # the server is stopping
                    continue
                if item.seq > last:
                    if item.base == last and item.patch is not None:
                        yield _event(item.seq, item.patch, kind="patch")
                    else:  # the page missed one (or more): the whole snapshot
                        yield _event(item.seq, item.data)
                    last = item.seq
            yield "event: bye\ndata: {}\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _event(seq: int, data: str, kind: str = "state") -> str:
    return f"id: {seq}\nevent: {kind}\ndata: {data}\n\n"


def _needs_in_json_schema() -> dict[str, Any]:
    """`_NEEDS` said in JSON Schema, as `_needed_by_the_action` checks it: each field an
    action needs is a non-empty string (a schema-driven client sent pick_manifest with
    `visit_id: ""`, valid by the document, and got a 422)."""
    return {
        "allOf": [
            {
                "if": {"properties": {"action": {"const": action}}, "required": ["action"]},
                "then": {
                    "required": list(fields),
                    "properties": {f: {"type": "string", "minLength": 1} for f in fields},
                },
            }
            for action, fields in _NEEDS.items()
        ]
    }


class ActionBody(BaseModel):
    model_config = ConfigDict(json_schema_extra=_needs_in_json_schema())

    action: Literal[
        "pick_manifest",
        "confirm_plate",
        "reassign",
        "hold",
        "release",
        "turn_away",
        "open_lane",
        "close_lane",
        "carrier_out",
        "carrier_back",
    ]
    # blanks around it do not count (found by a stranger's try: "   " was audited as "")
    reason: Reason
    gate_id: str | None = None
    # validated when left out too, so that a field the action needs is named when missing
    visit_id: str | None = Field(default=None, max_length=64, validate_default=True)
    lane_id: str | None = Field(default=None, max_length=64, validate_default=True)
    carrier_id: str | None = Field(
        default=None,
        max_length=64,
        validate_default=True,
        description="the autonomous carrier `carrier_out` takes out of service and "
        "`carrier_back` puts back",
    )
    # read as the firm API reads it (streams.manifests.normalise_id): " MF-1 " is MF-1
    manifest_id: Annotated[str | None, BeforeValidator(normalise_id)] = Field(
        default=None,
        max_length=64,
        pattern=_ID_OR_NOTHING,  # the document says it too (it allowed any 64 characters)
        validate_default=True,
        description="a manifest id (1 to 64 characters: letters, digits and . _ : -, starting "
        "with a letter or a digit); the blanks around it are dropped",
    )
    plate: str | None = Field(default=None, max_length=32, validate_default=True)

    @field_validator("visit_id", "lane_id", "carrier_id", "manifest_id", "plate")
    @classmethod
    def _needed_by_the_action(cls, value: str | None, info: ValidationInfo) -> str | None:
        action = info.data.get("action")
        if not value and action is not None and info.field_name in _NEEDS[action]:
            raise ValueError(f"required for {action}")
        return value


def _naming_its_field(status: int, slug: str, exc: Exception) -> ProblemError:
    """The rules' refusal as a problem with the field it names (`lane_id: ...`) in
    `errors`, as every 4xx of the API has it; the detail is the message unchanged. A
    refusal naming no field of the body refuses the action itself: `errors` names `action`
    (it had none: a client reading `errors` was told nothing; every refusal of the rules
    names its field, tests/unit/test_action_refusal_fields.py keeps it so)."""
    field, sep, message = str(exc).partition(": ")
    if sep and field in ActionBody.model_fields:
        return ProblemError(status, slug, message, field=field)
    refused = ProblemError(status, slug, str(exc))
    refused.errors = [FieldError(field="action", message=str(exc))]
    return refused


def refusal_problem(exc: ActionRefused | ActionNotFound) -> ProblemError:
    """A thing the body names that the gate has not (a visit, a manifest, a lane, a
    carrier) is 404; a refusal of the rules, a conflict with the board's state, is 409.
    An unknown lane or carrier answered 409 until 2026-12-06."""
    if isinstance(exc, ActionNotFound | UnknownTarget):
        return _naming_its_field(404, "not-found", exc)
    return _naming_its_field(409, "action-refused", exc)


class ActionDone(BaseModel):
    action_id: str
    audit_seq: int
    decision: dict[str, Any] | None
    lane_event_id: str | None


@router.post(
    "/control/api/actions",
    response_model=ActionDone,
    tags=["control room"],
    responses=problems(401, 403, 404, 409, 503),
)
async def act(body: ActionBody, room: RoomDep, actor: ActorDep) -> ActionDone:
    """Apply an action (controllers only; `X-CSRF-Token` required). 409 when the rules
    refuse it, with the reason; 404 for a visit, manifest, lane or carrier that does not
    exist."""
    gate = room.gate(body.gate_id, field="gate_id")  # the body's name (it said `gate`)
    req = ActionRequest(
        action=body.action,
        gate_id=gate.gate_id,
        actor=actor.controller.username,
        reason=body.reason.strip(),
        visit_id=body.visit_id,
        lane_id=body.lane_id,
        carrier_id=body.carrier_id,
        manifest_id=body.manifest_id,
        plate=body.plate,
    )
    try:
        done = await apply_action(room, gate, req)
    except (ActionRefused, ActionNotFound) as exc:
        raise refusal_problem(exc) from None
    except KafkaError as exc:
        raise ProblemError(
            503, "broker-unavailable", f"broker: unavailable ({type(exc).__name__}); not applied"
        ) from None
    room.hub.notify(gate.gate_id)
    decision = None
    if done.decision is not None:
        d = done.decision
        decision = {
            "decision_id": d.decision_id,
            "visit_id": d.visit_id,
            "outcome": d.outcome.value,
            "lane_id": d.lane_id,
            "carrier_slot": d.carrier_slot,
            "manifest_id": d.manifest_id,
            "reason": d.reason,
            "revision": d.revision,
        }
    return ActionDone(
        action_id=done.action_id,
        audit_seq=done.audit_seq,
        decision=decision,
        lane_event_id=done.lane_event_id,
    )
