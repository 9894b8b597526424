"""The drivers' page routes: `/d/{token}` (the page, in the driver's language), its data
`/d/{token}/state` and its live stream `/d/{token}/events` (Server-Sent Events, as the
control room: the data at once, then each change; an `alive` event every 5 s, which the
page watches to reopen a stream gone silent; `gone` when the page no longer exists, after
which the page stops reopening it; `bye` at once when the server begins to stop),
`/d/c/{code}` (the short code printed at the waiting area: a redirect to the page), `/d` (a
form to type that code into, `code_form.py`), both limited in the codes not found from one
address (`guard.py`: a 429, to a browser the form saying how long to wait) and, for a
booking's page, `POST /d/{token}/check-in` (the driver is in the waiting area: the
booking's check-in, when the app is given one). An unknown token or code is a 404
problem, or, for the page and the code opened in a browser (a request preferring HTML), a
404 page in the browser's language (`not_found.py`); nothing tells one truck's page from
another's but the token."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from services.db.driver_pages import BOOKING_PAGE
from services.drivers.code_form import (
    add_code_form,
    client_address,
    code_form,
    keep_choice,
    request_language,
    retry_after,
)
from services.drivers.guard import CodeGuard
from services.drivers.hub import DriverHub, could_be_code, normal_code
from services.drivers.i18n import (
    CHOSEN_COOKIE,
    WORDS,
    asked_language,
    language_links,
    said_language,
)
from services.drivers.not_found import not_found_page, prefers_html
from services.drivers.schemas import DriverPageState, PageCheckIn
from services.drivers.store import HubPages, Watch
from services.runtime.stopping import unless_stopping
from streams import clock

KEEP_ALIVE_S = 5.0


def _server_time() -> str:
    """The server's clock, for the page to tell how far the phone's is off (its late line
    is read on the server's time, not on a phone minutes off): `{"server_time": ISO}`."""
    return json.dumps({"server_time": clock.wall_clock().isoformat(timespec="milliseconds")})


WEB = Path(__file__).resolve().parent.parent / "web"


def _too_many(wait_s: float, request: Request, code: str, *, plates: bool) -> Response:
    """Too many codes not found from the request's address: a 429 problem, or, to a browser,
    the code form saying in its language how long to wait, with `code` typed in and, where
    the page source knows `plates`, asking for the truck's plate; `Retry-After` either way."""
    headers = {"Retry-After": retry_after(wait_s), "Cache-Control": "no-store"}
    if prefers_html(request.headers.get("accept")):
        language = request_language(request)
        asked = "" if plates else None
        body = code_form(language, chosen=None, typed=code, wait_s=wait_s, plate=asked)
        headers |= {"Content-Language": language, "Referrer-Policy": "no-referrer"}
        return HTMLResponse(body, status_code=429, headers=headers)
    detail = f"too many codes not found from this address; retry after {headers['Retry-After']} s"
    return JSONResponse(
        {
            "type": "urn:borderflow:problem:rate-limited",
            "title": "Too Many Requests",
            "status": 429,
            "detail": detail,
            # the code at fault, as every refusal names its field (the detail as it was)
            "errors": [{"field": "code", "message": "too many codes not found; wait"}],
        },
        status_code=429,
        media_type="application/problem+json",
        headers=headers,
    )


def _not_found(what: str, browser: Request | None = None) -> Response:
    """The 404 problem; to `browser` (a link opened on a phone: a request preferring HTML),
    a page in its language saying what to do instead."""
    if browser is not None and prefers_html(browser.headers.get("accept")):
        language = request_language(browser)
        return not_found_page(language)
    # typed, naming the path's parameter at fault (the token, or the code); was about:blank
    field = "code" if what == "code" else "token"
    return JSONResponse(
        {
            "type": "urn:borderflow:problem:not-found",
            "title": "Not Found",
            "status": 404,
            "detail": f"no such {what}",
            "errors": [{"field": field, "message": f"no such {what}"}],
        },
        status_code=404,
        media_type="application/problem+json",
    )


class PageSource(Protocol):
    """Where the pages' data comes from: the in-process hub, or the database (the app)."""

    async def state(self, token: str) -> str | None: ...

    async def token_of_code(self, code: str) -> str | None: ...

    def watch(self, token: str) -> contextlib.AbstractAsyncContextManager[Watch]: ...


# The booking's check-in, by booking id: the response to send (services/api/bookings.py)
CheckInBooking = Callable[[Request, str], Awaitable[Response]]
# The problems these routes answer, in the OpenAPI document (the schema is the API's Problem)
_PROBLEM: dict[str, Any] = {
    "description": "a problem (application/problem+json)",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
# A link or code not found: the problem, or a page for a browser (`not_found.py`)
_GONE: dict[str, Any] = {
    "description": "no such page or code: a problem; to a request preferring text/html (a "
    "browser), a page in its language saying what to do",
    "content": {**_PROBLEM["content"], "text/html": {}},
}


def _add_by_code(router: APIRouter, source: PageSource, guard: Callable[[], CodeGuard]) -> None:
    """`GET /d/c/{code}` on `router`: a redirect to the page of the truck with the code, as
    `guard` allows."""

    @router.get(
        "/d/c/{code}",
        response_model=None,
        response_class=RedirectResponse,  # a redirect, no JSON (the document said JSON)
        status_code=303,
        responses={
            303: {"description": "to the truck's page (`Location: /d/{token}`)"},
            404: _GONE,
            429: {
                "description": "too many codes not found from this address (`Retry-After`): "
                "a problem; to a browser, the code form saying how long to wait",
                "content": {**_PROBLEM["content"], "text/html": {}},
            },
        },
    )
    async def by_code(code: str, request: Request) -> Response:
        if len(code) > 64 or not could_be_code(normal_code(code)):
            return _not_found("code", request)  # no code has its shape: not counted
        limits, address = guard(), client_address(request)
        wait = limits.wait(address)
        if wait > 0:
            plates = getattr(source, "plates_of_code", None) is not None
            return _too_many(wait, request, code, plates=plates)
        token = await source.token_of_code(code)
        if token is None:
            limits.failed(address)
            return _not_found("code", request)
        limits.found(address, normal_code(code))
        return RedirectResponse(f"/d/{token}", status_code=303)


def _add_events(
    router: APIRouter, source: PageSource, *, stream_lifetime_s: float, keep_alive_s: float
) -> None:
    """`GET /d/{token}/events` on `router`: the page's live stream."""

    @router.get(
        "/d/{token}/events",
        response_model=None,
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "Server-Sent Events: `state` at once and on each change, "
                "each followed by `clock` (the server's time, `server_time`), `alive` every "
                "5 s with nothing new (with `server_time` too), `gone` (and the end) when "
                "the page no longer exists, `bye` at the end",
                "content": {"text/event-stream": {}},
            },
            404: _PROBLEM,
        },
    )
    async def events(request: Request, token: str) -> Response:
        first = await source.state(token)
        if first is None:
            return _not_found("truck page")
        # set when the server begins to stop (the API's context, as the control room's
        # stream reads it): an open page must not hold the shutdown until it is cancelled
        context = getattr(request.app.state, "context", None)
        stopping: asyncio.Event = getattr(context, "stopping", None) or asyncio.Event()

        async def stream() -> AsyncIterator[str]:
            ends = time.monotonic() + stream_lifetime_s
            async with source.watch(token) as changed:
                yield "retry: 1000\n"
                yield f"event: state\ndata: {await source.state(token) or first}\n\n"
                yield f"event: clock\ndata: {_server_time()}\n\n"
                while (left := ends - time.monotonic()) > 0 and not stopping.is_set():
                    data = await unless_stopping(changed(min(keep_alive_s, left)), stopping)
                    if stopping.is_set():
                        break
                    if data is None:
                        if await source.state(token) is None:
                            # the page is gone (pruned, its booking deleted): said, and the
                            # stream ends; the page stops asking (a reopened stream is a 404)
                            yield "event: gone\ndata: {}\n\n"
                            return
                        # an event, not a comment: the page sees it, and knows the line is up
                        yield f"event: alive\ndata: {_server_time()}\n\n"
                        continue
                    yield f"event: state\ndata: {data}\n\n"
                    yield f"event: clock\ndata: {_server_time()}\n\n"
                if stopping.is_set():
                    yield 'event: bye\ndata: {"reason": "server stopping"}\n\n'
                else:
                    yield "event: bye\ndata: {}\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )


def drivers_router(
    hub: DriverHub | PageSource,
    *,
    stream_lifetime_s: float = 300.0,
    check_in: CheckInBooking | None = None,
    keep_alive_s: float = KEEP_ALIVE_S,
    code_guard: Callable[[], CodeGuard] | None = None,
) -> APIRouter:
    """The pages' routes on `hub`; `check_in`: the booking's check-in, which a booking's
    page then offers (a page source that knows page keys is needed for it). The stream
    sends an `alive` event every `keep_alive_s` with nothing new, which the page, told the
    period, watches: a stream silent for three periods (a phone's connection dead without
    a word, a proxy holding it) is reopened, not trusted. `code_guard`: the limit on codes
    not found (the app's, from its context); None: one of this router's, with the defaults."""
    own = CodeGuard()
    guard: Callable[[], CodeGuard] = code_guard or (lambda: own)
    source: PageSource = HubPages(hub) if isinstance(hub, DriverHub) else hub
    router = APIRouter(tags=["drivers"])
    page_key = getattr(source, "page_key", None)
    if check_in is not None and page_key is not None:

        @router.post(
            "/d/{token}/check-in",
            response_model=None,
            responses={
                200: {
                    "description": "checked in (`recorded` false: a check-in less than "
                    "5 minutes before stands, and this one added nothing)",
                    "model": PageCheckIn,
                },
                409: {
                    "description": "the booking is not active: a problem with the page's "
                    "words (`message`)",
                    # the API's PageProblem (services/api/problems.py), named by its $ref
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/PageProblem"}
                        }
                    },
                },
                **dict.fromkeys((404, 422), _PROBLEM),
            },
        )
        async def checked_in(request: Request, token: str) -> Response:
            """The driver says the truck is in the waiting area (a booking's page only)."""
            key = await page_key(token)
            if key is None or not key.startswith(BOOKING_PAGE):
                return _not_found("booking page")
            return await check_in(request, key.removeprefix(BOOKING_PAGE))

    @router.get("/d-static/driver.js", include_in_schema=False)
    async def script() -> FileResponse:
        return FileResponse(WEB / "driver.js", media_type="text/javascript")

    add_code_form(router, source.token_of_code, guard, getattr(source, "plates_of_code", None))
    _add_by_code(router, source, guard)

    @router.get(
        "/d/{token}",
        response_model=None,
        response_class=HTMLResponse,
        responses={
            200: {"description": "the truck's page (HTML), in the driver's language"},
            404: _GONE,
        },
    )
    async def page(
        token: str,
        request: Request,
        # any text: one not a language of the page is passed over (a link edited by hand
        # or cut short must still open the page), not a 422 in JSON on a phone
        lang: Annotated[str | None, Query(max_length=500)] = None,
        accept_language: Annotated[str | None, Header(max_length=500)] = None,
    ) -> Response:
        if await source.state(token) is None:
            return _not_found("truck page", request)
        kept = request.cookies.get(CHOSEN_COOKIE)
        said = said_language(lang, accept_language, kept)
        chosen = said or "en"
        remember = getattr(source, "remember_language", None)
        picked = asked_language(lang) or asked_language(kept)
        if remember is not None and picked is not None:
            # the language the SMS are written in: only one chosen with the page's language
            # links (`?lang=`, or kept by the phone that chose it); a browser's own language
            # (the firm's English PC opening the link before the driver) or none (a link
            # preview, a script) is shown, and leaves the driver's (or the mobile's
            # country's) as it was
            await remember(token, picked)
        template = (WEB / "driver.html").read_text("utf-8")
        switch = language_links(chosen)
        body = (
            template.replace("{{lang}}", chosen)
            .replace("{{title}}", html.escape(WORDS[chosen]["title"]))
            .replace("{{switch}}", switch)
            .replace("{{words}}", html.escape(json.dumps(WORDS[chosen], ensure_ascii=False)))
            .replace("{{token}}", html.escape(token))
            .replace("{{alive}}", f"{keep_alive_s:g}")
        )
        response = Response(
            body,
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )
        return keep_choice(response, lang)

    @router.get(
        "/d/{token}/state",
        response_model=None,
        responses={
            200: {
                "description": "the page's data: its shape follows `status`",
                "model": DriverPageState,
            },
            404: _PROBLEM,
        },
    )
    async def state(token: str) -> Response:
        data = await source.state(token)
        if data is None:
            return _not_found("truck page")
        return Response(data, media_type="application/json", headers={"Cache-Control": "no-store"})

    _add_events(router, source, stream_lifetime_s=stream_lifetime_s, keep_alive_s=keep_alive_s)
    return router
