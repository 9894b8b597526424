"""The HTTP API: health, the live lane queues and manifest intake (more come later)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from aiokafka import AIOKafkaProducer
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.model import Gate
from services.adapters.booking_outbox import BookingOutbox, running_booking_outbox
from services.api import queries
from services.api.bookings import check_in_from_page
from services.api.bookings import router as bookings_router
from services.api.firm_settings import router as firm_settings_router
from services.api.gate_enum import document_gates
from services.api.headers import document_headers
from services.api.manifests import router as manifests_router
from services.api.metrics import router as metrics_router
from services.api.middleware import BodyLimitMiddleware, RequestIdMiddleware
from services.api.page_headers import PageHeadersMiddleware
from services.api.problem_types import document_problem_types
from services.api.problems import (
    ProblemError,
    document_problems,
    gate_or_404,
    install_problem_handlers,
    problems,
)
from services.api.ratelimit import RateLimiter
from services.api.review import router as review_router
from services.api.schemas import ComponentHealth, Health, QueueView, WaitingAreaView
from services.api.slots import router as slots_router
from services.api.staff import staff_session
from services.api.strict import (
    reject_repeated_members,
    reject_unknown_query,
    reject_unstorable_text,
)
from services.control.routes import router as control_router
from services.drivers.guard import CodeGuard
from services.drivers.routes import drivers_router
from services.drivers.store import DbPages
from services.gates.loader import default_gates
from services.runtime.settings import KafkaSettings
from services.service_layer.control import ControlRoomHandlers
from services.xborder.corridor import GateCorridor
from services.xborder.routes import action_router as xborder_action_router
from services.xborder.routes import router as xborder_router
from streams import clock
from streams.clients import broker_metadata_ok, make_producer
from streams.timestamps import IN_RANGE, ISO_ONLY


@dataclass(frozen=True)
class ApiContext:
    sessions: async_sessionmaker[AsyncSession]
    kafka: KafkaSettings
    bootstrap: str
    gates: Mapping[str, Gate]
    default_gate: str
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(rate=50.0, burst=100))
    # set when the server begins to stop: open streams (control room SSE) say goodbye and
    # end at once, so the graceful shutdown has no connection left to wait for
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # the key of the drivers' page tokens (issue 23); shared with the call-forward worker
    drivers_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    # the limit on the drivers' short codes not found, per client address and in all
    # (services/drivers/guard.py; BORDERFLOW_DRIVERS_CODE_*)
    code_guard: CodeGuard = field(default_factory=CodeGuard)
    # BORDERFLOW_PUBLIC_URL: the base of the absolute links given out (a booking's
    # driver_page); None: the request's own base URL
    public_url: str | None = None
    # the control room's use cases (actions, alert workflow) and their decision outbox on
    # the control room's producer, built by the composition root
    # (services/bootstrap.control_actions); None (a test's context): they answer 503
    control_actions: Callable[[AIOKafkaProducer], ControlRoomHandlers] | None = None
    # the `[corridor]` of each gate file the system runs with (issue 21; its
    # BORDERFLOW_GATES_DIR), by gate id; None (a test's context): the packaged gate files'
    corridors: Mapping[str, GateCorridor] | None = None


def get_context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.context
    return ctx


async def get_session(
    ctx: Annotated[ApiContext, Depends(get_context)],
) -> AsyncIterator[AsyncSession]:
    async with ctx.sessions() as session:
        yield session


ContextDep = Annotated[ApiContext, Depends(get_context)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


@asynccontextmanager
async def _booking_outbox(app: FastAPI, ctx: ApiContext) -> AsyncIterator[None]:
    """Publish booking events from this process: woken after each booking commit, drained at
    start-up and when idle (services/adapters/booking_outbox.py)."""
    outbox = BookingOutbox(
        sessions=ctx.sessions,
        producer=lambda: make_producer(ctx.kafka, ctx.bootstrap, client_suffix="bookings"),
    )
    async with running_booking_outbox(outbox):
        app.state.booking_outbox = outbox
        try:
            yield
        finally:
            app.state.booking_outbox = None


def create_app(
    context: ApiContext | None = None,
    *,
    context_factory: Callable[[], Any] | None = None,
) -> FastAPI:
    """An app bound to a running system's context (or one built by its lifespan)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if context is not None:
            async with _booking_outbox(app, context):
                yield
            return
        assert context_factory is not None
        async with context_factory() as built:
            app.state.context = built
            async with _booking_outbox(app, built):
                yield

    app = FastAPI(
        title="borderflow",
        version="0.1.0",
        summary="Smart-border truck flow orchestration",
        lifespan=lifespan,
        dependencies=[Depends(reject_unstorable_text), Depends(reject_repeated_members)],
        redirect_slashes=False,  # the problem handler redirects, with a body (problems.py)
    )
    if context is not None:
        app.state.context = context
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(PageHeadersMiddleware)  # CSP, framing, nosniff (page_headers.py)
    strict = [Depends(reject_unknown_query)]
    app.include_router(manifests_router, dependencies=strict)
    app.include_router(
        review_router, dependencies=[*strict, Depends(staff_session)], responses=problems(401, 404)
    )
    app.include_router(bookings_router, dependencies=strict)
    app.include_router(slots_router, dependencies=strict)
    # issue 23: the firm's call webhook
    app.include_router(firm_settings_router, dependencies=strict, responses=problems(401, 429))
    app.include_router(metrics_router)
    app.include_router(control_router)  # the control room (issue 6): page, stream, actions
    # the other side of the gate (issue 21), for staff
    staff = [*strict, Depends(staff_session)]
    app.include_router(xborder_router, dependencies=staff, responses=problems(401, 404))
    app.include_router(
        xborder_action_router, dependencies=staff, responses=problems(401, 403, 404, 409)
    )
    # the drivers' pages (issue 23): /d/{token}, served from the database's driver_pages
    app.include_router(
        drivers_router(
            DbPages(lambda: app.state.context.sessions, lambda: app.state.context.gates),
            check_in=check_in_from_page,
            code_guard=lambda: app.state.context.code_guard,
        )
    )

    @app.get("/health", response_model=Health, responses={503: {"model": Health}})
    async def health(ctx: ContextDep, session: SessionDep) -> JSONResponse:
        broker_ok, broker_detail = await broker_metadata_ok(ctx.kafka, ctx.bootstrap)
        db_ok, db_detail = await queries.database_ok(session=session)
        body = Health(
            status="ok" if broker_ok and db_ok else "degraded",
            broker=ComponentHealth(ok=broker_ok, detail=broker_detail),
            database=ComponentHealth(ok=db_ok, detail=db_detail),
        )
        return JSONResponse(
            body.model_dump(mode="json"), status_code=200 if body.status == "ok" else 503
        )

    # HEAD too, as uptime monitors and `curl -I` probe it: the same status, no body (the
    # server drops it); it was a 405 `allow: GET` (found by a stranger's try)
    app.add_api_route("/health", health, methods=["HEAD"], include_in_schema=False)

    @app.get(
        "/v1/queue",
        response_model=QueueView,
        dependencies=[Depends(reject_unknown_query), Depends(staff_session)],
        responses=problems(401, 404),
    )
    async def queue(
        ctx: ContextDep,
        session: SessionDep,
        gate: Annotated[str | None, Query(description="gate id; default: this system's")] = None,
        at: Annotated[
            datetime | None,
            ISO_ONLY,
            IN_RANGE,
            Query(
                description="ISO 8601 with offset, between 2000-01-01 and 2199-12-31 (UTC); "
                "default: the latest event time seen"
            ),
        ] = None,
    ) -> QueueView:
        gate_id = gate or ctx.default_gate
        gate_or_404(ctx.gates, gate_id)
        if at is not None and at.tzinfo is None:
            raise ProblemError(
                422, "invalid-request", "needs a UTC offset, e.g. +07:00", field="at"
            )
        as_of = at or await queries.latest_event_time(session=session, gate_id=gate_id)
        return await queries.queue_view(
            session=session, gate_id=gate_id, as_of=as_of or clock.wall_clock()
        )

    @app.get(
        "/v1/waiting-area",
        response_model=WaitingAreaView,
        dependencies=[Depends(reject_unknown_query), Depends(staff_session)],
        responses=problems(401, 404),
        summary="The trucks in the gate's waiting areas (call-forward), and their calls",
    )
    async def waiting_area(
        ctx: ContextDep,
        session: SessionDep,
        gate: Annotated[str | None, Query(description="gate id; default: this system's")] = None,
    ) -> WaitingAreaView:
        """Issue 23, for the lane controllers: the queue off the road, as the call-forward
        worker saved it after its last batch (event time `stepped_to`)."""
        gate_id = gate or ctx.default_gate
        gate_or_404(ctx.gates, gate_id)
        return await queries.waiting_area_view(
            session=session, gate_id=gate_id, secret=ctx.drivers_secret
        )

    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        # the running system's gates; the packaged ones where none is bound (the reference)
        context: ApiContext | None = getattr(app.state, "context", None)
        gates = default_gates() if context is None else context.gates
        document = document_gates(document_problems(default_openapi()), gates)
        return document_problem_types(document_headers(document))

    app.openapi = openapi  # type: ignore[method-assign]
    return app
