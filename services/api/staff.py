"""The gate-wide views of the /v1 API (`/v1/queue`, `/v1/review`) list every firm's trucks,
plates and manifests: they are for the gate's staff, so they need a control-room session
(the `bf_control` cookie of `POST /control/api/login`, any role). A firm's API key opens
only the firm's own data and gives no access here."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.api.problems import FieldError, ProblemError
from services.control.auth import COOKIE, NotLoggedIn, logged_in, not_stored
from services.db.controllers import SessionInfo


def _refused(detail: str) -> ProblemError:
    refused = ProblemError(
        401,
        "unauthorized",
        f"{detail}: the gate-wide views need a control-room login (POST /control/api/login)",
        headers={"WWW-Authenticate": 'Cookie realm="borderflow-control"'},
    )
    refused.errors = [FieldError(field=COOKIE, message=detail)]  # the session cookie
    return refused


async def staff_session(request: Request, response: Response) -> SessionInfo:
    not_stored(response)  # the browser keeps no copy for Back after a logout
    sessions: async_sessionmaker[AsyncSession] = request.app.state.context.sessions
    try:
        return await logged_in(request, sessions)
    except NotLoggedIn as exc:
        raise _refused(str(exc)) from None


StaffDep = Annotated[SessionInfo, Depends(staff_session)]
