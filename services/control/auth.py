"""Control-room login: username + password (scrypt), an HttpOnly SameSite=Strict session
cookie (Secure when configured), and a per-session CSRF token the page sends back in the
`X-CSRF-Token` header on every action. A firm's API key (`Authorization: Bearer`) is not a
session and opens nothing here."""

from __future__ import annotations

import hmac
import math
import time
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.api.problems import PROBLEM_RESPONSE, FieldError, ProblemError, problems
from services.control.state import RoomDep, room_of
from services.db.controllers import (
    SessionInfo,
    authenticate,
    close_session,
    open_session,
    session_for,
)
from streams import clock

COOKIE = "bf_control"
CSRF_HEADER = "X-CSRF-Token"
COOKIE_PATH = "/"
OLD_COOKIE_PATH = "/control"  # where it was set before; a browser may still hold one there

router = APIRouter(prefix="/control/api", tags=["control room"])


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Me(BaseModel):
    username: str
    role: str
    can_act: bool
    csrf_token: str
    expires_at: datetime


class NotLoggedIn(Exception):
    """No live control-room session on the request; the message says why."""


async def logged_in(request: Request, sessions: async_sessionmaker[AsyncSession]) -> SessionInfo:
    """The session of the request's cookie, any role; NotLoggedIn otherwise."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise NotLoggedIn("not logged in")
    async with sessions() as session:
        info = await session_for(session=session, token=token, now=clock.wall_clock())
    if info is None:
        raise NotLoggedIn("session expired or logged out")
    return info


NO_STORE = {"Cache-Control": "no-store"}


def not_stored(response: Response) -> None:
    """What a session reads is not kept by the browser: Back or Forward after logging out
    showed the cached answer (the gate-wide queue, the page's `me` with its CSRF token)
    until 2026-12-05."""
    response.headers.update(NO_STORE)


async def current_session(request: Request, response: Response) -> SessionInfo:
    """The logged-in controller (any role); 401 otherwise, as problem+json (type
    urn:borderflow:problem:not-logged-in; `detail` the reason, as the page shows it).
    Its answer is not stored by the browser."""
    not_stored(response)
    try:
        return await logged_in(request, room_of(request).sessions)
    except NotLoggedIn as exc:
        refused = ProblemError(401, "not-logged-in", str(exc))
        refused.errors = [FieldError(field=COOKIE, message=str(exc))]  # the session cookie
        raise refused from None


SessionDep = Annotated[SessionInfo, Depends(current_session)]


async def acting_session(request: Request, info: SessionDep) -> SessionInfo:
    """A controller's session, with its CSRF token in the header: what an action needs."""
    sent = request.headers.get(CSRF_HEADER, "")
    # problems typed not-allowed naming the header or the role (were about:blank, no
    # `errors`); the details as they were ("X-CSRF-Token: missing or wrong", "role: ...")
    if not sent or not hmac.compare_digest(sent, info.csrf_token):
        raise ProblemError(403, "not-allowed", "missing or wrong", field=CSRF_HEADER)
    if not info.controller.can_act:
        raise ProblemError(
            403,
            "not-allowed",
            f"{info.controller.username} is a {info.controller.role}; only a controller can act",
            field="role",
        )
    return info


ActorDep = Annotated[SessionInfo, Depends(acting_session)]


@router.post(
    "/login",
    response_model=Me,
    responses=problems(401, 503)
    | {429: PROBLEM_RESPONSE | {"description": "too many failed logins; see Retry-After"}},
)
async def login(body: Login, request: Request, response: Response, room: RoomDep) -> Me:
    now = clock.wall_clock()
    tick = time.monotonic()
    keys = room.login_throttle.keys(body.username, request.client.host if request.client else "?")
    wait = room.login_throttle.retry_after(keys, tick)
    if wait > 0:
        # the drivers' code limiter's problem type (services/drivers/routes.py), as the
        # firms' key limit has it; it was about:blank, the one refusal without a type
        raise ProblemError(
            429,
            "rate-limited",
            f"too many failed logins from this address; try again in {math.ceil(wait)} s",
            field="username",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    not_stored(response)
    async with room.sessions() as session, session.begin():
        controller = await authenticate(
            session=session, username=body.username, password=body.password
        )
        if controller is None:
            room.login_throttle.failed(keys, tick)
            refused = ProblemError(401, "login-failed", "username or password: not recognised")
            # which of the two is wrong is not said: both are named
            refused.errors = [
                FieldError(field=name, message="username or password not recognised")
                for name in ("username", "password")
            ]
            raise refused
        room.login_throttle.succeeded(keys)
        ttl = timedelta(hours=room.settings.session_hours)
        token, csrf = await open_session(
            session=session, username=controller.username, now=now, ttl=ttl
        )
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(ttl.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=room.settings.cookie_secure,
        # "/": the same session opens the control room and the staff views /v1/queue and
        # /v1/review (GET only); every action stays behind the X-CSRF-Token check
        path=COOKIE_PATH,
    )
    # a stale copy at the old path would be sent to /control alongside the new one
    response.delete_cookie(COOKIE, path=OLD_COOKIE_PATH)
    return Me(
        username=controller.username,
        role=controller.role,
        can_act=controller.can_act,
        csrf_token=csrf,
        expires_at=now + ttl,
    )


@router.post("/logout", status_code=204, responses=problems(503))
async def logout(request: Request, response: Response, room: RoomDep) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        async with room.sessions() as session, session.begin():
            await close_session(session=session, token=token)
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    response.delete_cookie(COOKIE, path=OLD_COOKIE_PATH)


@router.get("/me", response_model=Me, responses=problems(401))
async def me(info: SessionDep) -> Me:
    return Me(
        username=info.controller.username,
        role=info.controller.role,
        can_act=info.controller.can_act,
        csrf_token=info.csrf_token,
        expires_at=info.expires_at,
    )
