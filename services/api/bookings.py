"""`/v1/bookings`: a firm books its own manifests into crossing slots (Bearer API key).

`POST /v1/bookings` needs an `Idempotency-Key` header. The first request with a key is
answered 201; a retry with the same key and the same body gets the same status and body
again (201, header `Idempotent-Replayed: true`) without booking twice, as the first answer
was even if the booking has since been rescheduled or cancelled (as Stripe and the IETF
Idempotency-Key draft do: a retry learns what its request did; `GET` the Location for the
booking now); the same key with another body is a 409. A refused request (4xx) stores
nothing under its key, so it may be retried with the same key once the cause is gone.
Another firm's booking or manifest answers 404 exactly as a missing one."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable
from datetime import UTC, datetime, timezone
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter

from lanes.booking import Booking, BookingRefused, booking_not_found
from lanes.bookings import BookingState
from lanes.model import Gate
from services.adapters.sql_bookings import SqlBookingUnitOfWork
from services.api.auth import FirmDep, SessionsDep
from services.api.booking_schemas import (
    BookingPage,
    BookingRequest,
    BookingView,
    Cursor,
    EmptyBody,
    IdPath,
    RescheduleRequest,
)
from services.api.problems import FieldError, link, links, problem_response
from services.api.slots import ERRORS, FOUND_ERRORS, PROBLEM, booking_gate
from services.db import bookings as repo
from services.db.driver_pages import booking_page_key
from services.drivers.hub import page_token
from services.drivers.i18n import WORDS, pick_language
from services.ports import EventPublisher
from services.service_layer.bookings import (
    BookSlot,
    CancelSlot,
    CheckIn,
    CheckInDone,
    IdempotencyKeyReused,
    Replayed,
    RescheduleSlot,
    book_slot,
    cancel_slot,
    check_in_slot,
    reschedule_slot,
)
from streams import clock

router = APIRouter(prefix="/v1/bookings", tags=["bookings"])

_TYPE = "urn:borderflow:problem:"
# kind of refusal -> (status, problem slug)
_STATUS = {
    "manifest_not_found": (404, "manifest-not-found"),
    "booking_not_found": (404, "booking-not-found"),
    "window": (422, "slot-not-bookable"),
    "no_bookings": (422, "no-bookings"),
    "already_booked": (409, "already-booked"),
    "slot_full": (409, "slot-full"),
    "not_active": (409, "booking-not-active"),
    "no_waiting_area": (422, "no-waiting-area"),
    "version_changed": (412, "precondition-failed"),
}
# the request header a refusal's field stands for (the domain names what it checks)
_HEADER_FIELDS = {"version_changed": "If-Match"}
_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {**FOUND_ERRORS, 400: PROBLEM, 409: PROBLEM}
_BOOKING = "/v1/bookings/{booking_id}"
_ID = "$response.body#/booking_id"
# the workflow, for a reader and a stateful client: what may follow a booking
_BOOKED_LINKS = links(
    201,
    GetBooking=link(_BOOKING, "get", "the booking as it stands", booking_id=_ID),
    RescheduleBooking=link(
        _BOOKING + "/reschedule", "post", "move it to another slot", booking_id=_ID
    ),
    CancelBooking=link(_BOOKING + "/cancel", "post", "cancel it", booking_id=_ID),
    CheckInBooking=link(
        _BOOKING + "/check-in", "post", "the truck is in the waiting area", booking_id=_ID
    ),
)


# cancel and check-in take no body: left out, `{}` or `null`; a member is a 422 naming it
NoBody = Annotated[
    EmptyBody | None,
    Body(
        description="none: leave it out or send `{}`; a member is refused (422 naming it)",
        examples=[{}],
    ),
]


def _refusal(
    exc: BookingRefused,
    *,
    extensions: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    status, slug = _STATUS[exc.kind]
    field = _HEADER_FIELDS.get(exc.kind, exc.field)
    return problem_response(
        status,
        f"{field}: {exc.detail}",
        type_=_TYPE + slug,
        errors=[FieldError(field=field, message=exc.detail)],
        extensions=extensions,
        headers=headers,
    )


def _page_refusal(request: Request, exc: BookingRefused) -> JSONResponse:
    """The problem of a refused check-in from the driver's page, as the firm's route
    answers it, with `message`: what the page says of the booking's state (ended,
    cancelled), in the page's language (`?lang=`, else Accept-Language), for the page to
    show instead of the English detail."""
    language = pick_language(
        request.query_params.get("lang"), request.headers.get("accept-language")
    )
    message = None if exc.state is None else WORDS[language].get(exc.state.value)
    if message is None:
        return _refusal(exc)
    return _refusal(
        exc,
        extensions={"message": message},
        headers={"Content-Language": language, "Vary": "Accept-Language"},
    )


async def _answer(request: Request, change: Awaitable[Booking]) -> JSONResponse:
    """The booking after `change` (a use case's handler), or the refusal's problem."""
    try:
        booking = await change
    except BookingRefused as exc:
        return _refusal(exc)
    return JSONResponse(_view(booking, request), headers=_etag(booking.booking_id, booking.version))


def _etag(booking_id: str, version: int) -> dict[str, str]:
    """A booking's entity tag: its id and version (strong: the body is the version's)."""
    return {"ETag": f'"{booking_id}-v{version}"'}


_ETAG = re.compile(r'\s*(W/)?"([^"]*)"\s*')


def _versions(booking_id: str, if_match: str | None) -> frozenset[int] | None:
    """The versions an `If-Match` names for this booking (RFC 9110 13.1.1: a list of
    entity tags, strong comparison, so a weak one matches nothing; `*`: any). None: no
    header or `*`; a tag of another booking, or one not ours, matches no version."""
    if if_match is None or if_match.strip() == "*":
        return None
    versions = set()
    for weak, opaque in _tags(if_match):
        stem, _, version = opaque.rpartition("-v")
        if not weak and stem == booking_id and version.isdigit() and len(version) < 10:
            versions.add(int(version))
    return frozenset(versions)


def _tags(header: str) -> list[tuple[bool, str]]:
    """The entity tags a list header names (RFC 9110 8.8.3): (weak, opaque tag) each; an
    item that is not one is left out."""
    return [
        (found.group(1) is not None, found.group(2))
        for tag in header.split(",")
        if (found := _ETAG.fullmatch(tag)) is not None
    ]


_IF_MATCH = Header(
    alias="If-Match",
    max_length=1024,
    description="the booking's ETag as last read (a list, or *): refused with 412 if it "
    "has changed since",
)


def _driver_page(request: Request, booking_id: str) -> str:
    """The driver's page, absolute (a firm's system texts it on as it is): under
    BORDERFLOW_PUBLIC_URL, else under this request's base URL (its Host; the scheme
    X-Forwarded-Proto gives when the proxy is one uvicorn trusts, FORWARDED_ALLOW_IPS)."""
    context = request.app.state.context
    secret: bytes = context.drivers_secret
    base: str = context.public_url or str(request.base_url).rstrip("/")
    return f"{base}/d/{page_token(secret, booking_page_key(booking_id))}"


def _view(booking: Booking, request: Request) -> dict[str, Any]:
    view = BookingView(
        booking_id=booking.booking_id,
        manifest_id=booking.manifest_id,
        gate_id=booking.gate_id,
        direction=booking.direction,
        slot_start=booking.slot_start,
        slot_end=booking.slot_end,
        perishable=booking.perishable,
        status=booking.status,
        created_at=booking.created_at,
        updated_at=booking.updated_at,
        version=booking.version,
        driver_page=_driver_page(request, booking.booking_id),
    )
    return view.model_dump(mode="json")


def _location(booking_id: str) -> dict[str, str]:
    return {"Location": f"/v1/bookings/{quote(booking_id, safe='')}"}


class _NoPublisher:
    def wake(self) -> None:
        """No booking-event publisher in this app: the outbox keeps the events."""


def _publisher(request: Request) -> EventPublisher:
    """The booking-event publisher this app runs, if any (woken after each change)."""
    outbox: EventPublisher | None = getattr(request.app.state, "booking_outbox", None)
    return _NoPublisher() if outbox is None else outbox


def _uow(request: Request, sessions: SessionsDep) -> SqlBookingUnitOfWork:
    return SqlBookingUnitOfWork(sessions, drivers_secret=request.app.state.context.drivers_secret)


_INSTANT = TypeAdapter(datetime)  # a datetime as a model's JSON dump writes it


def _hash(body: BookingRequest, gate: Gate) -> str:
    # without the phone when none is given: the hash of a request made before it existed
    unset = {"driver_phone"} if body.driver_phone is None else set()
    canonical = body.model_dump(mode="json", exclude=unset) | {"gate": gate.gate_id}
    # the instant, written in the gate's offset: a retry naming it in UTC or another offset
    # is the same request (it was "another body"), and one sent in the gate's offset, as the
    # docs do, hashes as before (a key stored before this change is still recognised)
    local = body.slot_start.astimezone(timezone(gate.utc_offset))
    canonical["slot_start"] = _INSTANT.dump_python(local, mode="json")
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


@router.post(
    "",
    status_code=201,
    response_model=BookingView,
    responses={**_WRITE_ERRORS, 400: PROBLEM},
    summary="Book a slot for one of your manifests (201; a retry with the same key: the same)",
    openapi_extra=_BOOKED_LINKS,
)
async def create_booking(
    request: Request,
    body: BookingRequest,
    firm: FirmDep,
    sessions: SessionsDep,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",  # one spelling in the document and problems; any case taken
            min_length=1,
            max_length=255,
            description="a key unique to this booking request, reused on retries",
            examples=["b7e4c1d2-booking-MF-2026-0001"],
        ),
    ],
) -> JSONResponse:
    gate = booking_gate(request, body.gate, status=422)
    cmd = BookSlot(
        firm_id=firm,
        manifest_id=body.manifest_id,
        gate_id=gate.gate_id,
        slot_start=body.slot_start,
        idempotency_key=idempotency_key,
        request_hash=_hash(body, gate),
        driver_phone=body.driver_phone,
    )
    try:
        result = await book_slot(
            cmd,
            uow=_uow(request, sessions),
            publisher=_publisher(request),
            gates=request.app.state.context.gates,
            now=clock.wall_clock(),
            present=lambda booking: _view(booking, request),
        )
    except IdempotencyKeyReused:
        return problem_response(
            409,
            "Idempotency-Key: this key was used with another request body; "
            "use a new key for a new request",
            type_=_TYPE + "idempotency-key-reused",
            errors=[FieldError(field="Idempotency-Key", message="used with another body")],
        )
    except BookingRefused as exc:
        return _refusal(exc)
    if isinstance(result, Replayed):
        earlier = result.earlier
        return JSONResponse(
            earlier.response,
            status_code=earlier.status_code,
            headers=_location(earlier.booking_id or "") | {"Idempotent-Replayed": "true"},
        )
    return JSONResponse(
        result.answer,
        status_code=201,
        headers=_location(result.booking.booking_id)
        | _etag(result.booking.booking_id, result.booking.version),
    )


@router.get(
    "",
    response_model=BookingPage,
    responses=ERRORS,
    summary="Your firm's bookings, by id, a page at a time",
)
async def list_own_bookings(  # noqa: PLR0917 (FastAPI parameters)
    request: Request,
    firm: FirmDep,
    sessions: SessionsDep,
    status: Annotated[BookingState | None, Query(description="only bookings in this state")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="bookings per page")] = 50,
    after: Cursor = None,
) -> BookingPage:
    async with sessions() as session:
        page = await repo.list_bookings(
            session=session, firm_id=firm, limit=limit + 1, after=after, status=status
        )
    more = len(page) > limit
    page = page[:limit]
    return BookingPage(
        items=[BookingView.model_validate(_view(b, request)) for b in page],
        next=page[-1].booking_id if more else None,
    )


@router.get(
    "/{booking_id}",
    response_model=BookingView,
    responses=FOUND_ERRORS,
    summary="One of your firm's bookings",
)
async def read_booking(
    request: Request,
    booking_id: IdPath,
    firm: FirmDep,
    sessions: SessionsDep,
    if_none_match: Annotated[
        str | None,
        Header(
            alias="If-None-Match",
            max_length=1024,
            description="the ETag last read: 304, no body, while the booking is unchanged",
        ),
    ] = None,
) -> Response:
    async with sessions() as session:
        booking = await repo.get_booking(session=session, firm_id=firm, booking_id=booking_id)
    if booking is None:  # another firm's id reads as missing: ids reveal nothing
        return _refusal(booking_not_found(booking_id))
    etag = _etag(booking.booking_id, booking.version)
    if if_none_match is not None and _matches_weakly(etag["ETag"], if_none_match):
        return Response(status_code=304, headers=etag)  # RFC 9110 15.4.5: the ETag again
    return JSONResponse(_view(booking, request), headers=etag)


def _matches_weakly(etag: str, if_none_match: str) -> bool:
    """`If-None-Match` (RFC 9110 13.1.2): `*`, or a list of tags compared weakly."""
    if if_none_match.strip() == "*":
        return True
    return any(f'"{opaque}"' == etag for _, opaque in _tags(if_none_match))


@router.post(
    "/{booking_id}/reschedule",
    response_model=BookingView,
    responses={**_WRITE_ERRORS, 412: PROBLEM},
    summary="Move an active booking to another slot (atomic: the old slot is kept if refused)",
)
async def reschedule_booking(  # noqa: PLR0917 (FastAPI parameters)
    request: Request,
    booking_id: IdPath,
    body: RescheduleRequest,
    firm: FirmDep,
    sessions: SessionsDep,
    if_match: Annotated[str | None, _IF_MATCH] = None,
) -> JSONResponse:
    cmd = RescheduleSlot(
        firm_id=firm,
        booking_id=booking_id,
        slot_start=body.slot_start,
        versions=_versions(booking_id, if_match),
    )
    return await _answer(
        request,
        reschedule_slot(
            cmd,
            uow=_uow(request, sessions),
            publisher=_publisher(request),
            gates=request.app.state.context.gates,
            now=clock.wall_clock(),
        ),
    )


@router.post(
    "/{booking_id}/cancel",
    response_model=BookingView,
    responses={**_WRITE_ERRORS, 412: PROBLEM},
    summary="Cancel a booking and free its place (an already cancelled one: 200, unchanged)",
)
async def cancel_booking(  # noqa: PLR0917 (FastAPI parameters)
    request: Request,
    booking_id: IdPath,
    firm: FirmDep,
    sessions: SessionsDep,
    no_body: NoBody = None,
    if_match: Annotated[str | None, _IF_MATCH] = None,
) -> JSONResponse:
    return await _answer(
        request,
        cancel_slot(
            CancelSlot(
                firm_id=firm, booking_id=booking_id, versions=_versions(booking_id, if_match)
            ),
            uow=_uow(request, sessions),
            publisher=_publisher(request),
            now=clock.wall_clock(),
        ),
    )


@router.post(
    "/{booking_id}/check-in",
    response_model=BookingView,
    responses=_WRITE_ERRORS,
    summary="The booked truck is in the gate's waiting area: queue it to be called forward",
)
async def check_in_booking(
    request: Request,
    booking_id: IdPath,
    firm: FirmDep,
    sessions: SessionsDep,
    no_body: NoBody = None,
) -> JSONResponse:
    """Issue 23: the firm's system (or its driver, through it) says the truck is in the
    gate's waiting area. A `booking.checked_in` event goes out on `borderflow.bookings`; the
    call-forward worker queues the truck there, as when the area's camera reads it, and the
    driver's page then shows its place and its call. The booking is returned unchanged; a
    second check-in is harmless (the truck is queued once). Refused: a booking that is not
    active (409), a gate with no waiting area for its direction (422)."""
    try:
        done = await check_in_slot(
            CheckIn(firm_id=firm, booking_id=booking_id),
            uow=_uow(request, sessions),
            publisher=_publisher(request),
            gates=request.app.state.context.gates,
            now=clock.wall_clock(),
        )
    except BookingRefused as exc:
        return _refusal(exc)
    return JSONResponse(
        _view(done.booking, request),
        headers=_check_in_headers(done) | _etag(done.booking.booking_id, done.booking.version),
    )


async def check_in_from_page(request: Request, booking_id: str) -> JSONResponse:
    """The driver's page's check-in (`POST /d/{token}/check-in`, services/drivers/routes.py):
    the same use case as the firm's route, for the booking the page belongs to. It answers
    `{"checked_in": true}` and nothing of the booking (the page shows what call-forward
    makes of it), or the refusal's problem (with the page's words for an ended booking)."""
    try:
        done = await check_in_slot(
            CheckIn(firm_id=None, booking_id=booking_id),
            uow=_uow(request, request.app.state.context.sessions),
            publisher=_publisher(request),
            gates=request.app.state.context.gates,
            now=clock.wall_clock(),
        )
    except BookingRefused as exc:
        return _page_refusal(request, exc)
    return JSONResponse(
        {"checked_in": True, "recorded": done.recorded, "at": _utc_text(done.at)},
        headers={"Cache-Control": "no-store"} | _check_in_headers(done),
    )


def _check_in_headers(done: CheckInDone) -> dict[str, str]:
    """A repeat within the repeat window (found by a stranger's try: a second check-in
    answered yes while nothing was recorded) says which check-in stands."""
    if done.recorded:
        return {}
    return {"Check-In-Repeated": _utc_text(done.at)}


def _utc_text(at: datetime) -> str:
    """UTC, spelt as the API's other times are (`2026-12-05T08:00:00Z`, pydantic's form; the
    OpenAPI example's). `isoformat()` spelt it `+00:00` (found by a stranger's try)."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
