"""Bearer authentication: `Authorization: Bearer <API key>` -> the caller's firm."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.api.problems import FieldError, ProblemError
from services.api.ratelimit import RateLimiter
from services.db.firms import lookup_key

_bearer = HTTPBearer(
    auto_error=False,
    description="A firm's API key (`borderflow firms create`), as `Bearer bf_...`",
)


async def get_sessions(request: Request) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on one database connection for the whole request: the key look-up and the
    route's own transaction(s) share a single pool check-out (and its liveness ping)."""
    pooled: async_sessionmaker[AsyncSession] = request.app.state.context.sessions
    engine = pooled.kw["bind"]
    async with engine.connect() as connection:
        yield async_sessionmaker(bind=connection, expire_on_commit=False)


SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)]


def _unauthorized(detail: str, *, error: str | None = None) -> ProblemError:
    challenge = 'Bearer realm="borderflow"'
    if error is not None:
        challenge += f', error="{error}"'
    refused = ProblemError(401, "unauthorized", detail, headers={"WWW-Authenticate": challenge})
    # the header at fault in `errors`, as every 4xx names its field; the detail as it was
    refused.errors = [FieldError(field="Authorization", message=detail)]
    return refused


async def current_firm(
    request: Request,
    sessions: SessionsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The firm of the presented API key, or 401 saying what is wrong with it."""
    if credentials is None:
        if request.headers.get("authorization"):
            raise _unauthorized(
                "the Authorization header must be 'Bearer <API key>'", error="invalid_request"
            )
        raise _unauthorized("missing API key: send 'Authorization: Bearer <API key>'")
    async with sessions() as session:
        match = await lookup_key(session=session, key=credentials.credentials.strip())
    if match is None:
        raise _unauthorized("unknown API key", error="invalid_token")
    if match.revoked_at is not None:
        raise _unauthorized(
            f"API key {match.prefix}... was revoked at {match.revoked_at.isoformat()}",
            error="invalid_token",
        )
    limiter: RateLimiter = request.app.state.context.limiter
    wait = limiter.take(match.prefix)
    if wait is not None:
        retry_after = RateLimiter.retry_after(wait)
        limited = ProblemError(
            429,
            "rate-limited",
            f"too many requests for API key {match.prefix}...: at most {limiter.burst} at once "
            # the wait as the header gives it (whole seconds, at least 1): the detail said
            # the exact wait to a tenth, "0.0 s" under 0.05 s, where the header said 1
            f"and {limiter.rate:g} a second; retry after {retry_after} s (Retry-After)",
            headers={"Retry-After": retry_after},
        )
        # the key over its rate named, as the header it came in (no `errors` until then)
        limited.errors = [FieldError(field="Authorization", message="this key is over its rate")]
        raise limited
    return match.firm_id


FirmDep = Annotated[str, Depends(current_firm)]
