"""`GET /d`: the form a driver types the short code into (the code printed at the waiting
area, or told by the area's staff), in the page's language (`?lang=`, else the browser's
Accept-Language), switchable as the page is. `GET /d?code=...` (the form sent, no
JavaScript needed) looks the code up as `/d/c/{code}` does (any case, spaces, hyphens,
full-width letters): found, a redirect to the truck's page; not found, the same form again
with a message in the driver's language (404), which says nothing of any other truck. Too
many codes not found from the driver's address (`guard.py`): the form again, saying in the
driver's language how long to wait (429, `Retry-After`), the code not looked up."""

from __future__ import annotations

import html
import math
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.drivers.guard import CodeGuard
from services.drivers.hub import could_be_code, normal_code
from services.drivers.i18n import (
    CHOSEN_COOKIE,
    WORDS,
    asked_language,
    language_links,
    pick_language,
)
from services.drivers.shell import small_page

# longer than any code typed with spaces, hyphens and full-width letters: not looked up
_MOST_TYPED = 64

# the form's own rules, in the drivers' small pages' shell (`shell.py`)
_STYLE = """  label { display: block; margin-bottom: .4rem; }
  input { font: inherit; font-size: min(1.5rem, 10vw); letter-spacing: .1em; width: 100%;
          box-sizing: border-box; padding: .5rem; text-transform: uppercase; }
  button { font: inherit; padding: .7rem 1rem; border-radius: .5rem; margin-top: 1rem;
           border: 2px solid #0a7d2c; background: #0a7d2c; color: #fff; width: 100%; }
  #wrong { color: #b00020; font-weight: bold; }
"""
_FORM = """<nav>{switch}</nav>
<h1>{title}</h1>
<form method="get" action="/d">
{wrong}<label for="code">{label}</label>
<input id="code" name="code" value="{typed}" autocomplete="off" autocapitalize="characters"
       spellcheck="false" required maxlength="{most}"{invalid}>
{keep_lang}<button type="submit">{open}</button>
</form>
"""

TokenOfCode = Callable[[str], Awaitable[str | None]]


def retry_after(wait_s: float) -> str:
    """`Retry-After`: whole seconds, at least 1."""
    return str(max(1, math.ceil(wait_s)))


def code_form(
    language: str,
    *,
    chosen: str | None,
    typed: str = "",
    wrong: bool = False,
    wait_s: float | None = None,
    misshapen: bool = False,
) -> str:
    """The form in `language`; `chosen`: the language asked for by `?lang=` (kept by the
    form); `wrong`: the code typed found no truck (said, the typed text kept to correct);
    `wait_s`: too many codes not found from this address, the seconds to wait (said)."""
    words = WORDS[language]
    switch = language_links(language, "/d")
    said = words["code_shape"] if misshapen else words["code_wrong"]
    wrong = wrong or misshapen
    if wait_s is not None:
        wrong, said = True, words["code_wait"].format(minutes=max(1, math.ceil(wait_s / 60)))
    message = f'<p id="wrong" role="alert">{html.escape(said)}</p>\n'
    form = _FORM.format(
        title=html.escape(words["code_title"]),
        switch=switch,
        label=html.escape(words["code_label"]),
        open=html.escape(words["code_open"]),
        typed=html.escape(typed[:_MOST_TYPED]),
        most=_MOST_TYPED,
        wrong=message if wrong else "",
        invalid=' aria-invalid="true" aria-describedby="wrong"' if wrong else "",
        keep_lang=f'<input type="hidden" name="lang" value="{chosen}">\n' if chosen else "",
    )
    return small_page(language, words["code_title"], form, style=_STYLE)


# how long the phone keeps the language chosen: as long as a page is kept (PAGE_KEEP)
CHOICE_KEPT_S = 30 * 24 * 3600


def request_language(request: Request) -> str:
    """The language of a drivers' page asked for by `request`: `?lang=`, else the one kept
    from the driver's last choice, else Accept-Language's, else English."""
    return pick_language(
        request.query_params.get("lang"),
        request.headers.get("accept-language"),
        request.cookies.get(CHOSEN_COOKIE),
    )


def keep_choice(response: Response, lang: str | None) -> Response:
    """`response`, keeping on the phone the language `lang` (`?lang=`) when it is one of the
    pages': chosen with the links, it outlasts the link (the firm's, opened again, has none)."""
    asked = asked_language(lang)
    if asked is not None and len(lang or "") <= 100:
        response.set_cookie(
            CHOSEN_COOKIE, asked, max_age=CHOICE_KEPT_S, path="/d", samesite="lax", httponly=True
        )
    return response


def client_address(request: Request) -> str:
    """The request's client: the socket's peer, or, from a proxy uvicorn trusts (its
    `FORWARDED_ALLOW_IPS`, 127.0.0.1 by default), the client `X-Forwarded-For` names."""
    return request.client.host if request.client else "unknown"


def add_code_form(
    router: APIRouter, token_of_code: TokenOfCode, guard: Callable[[], CodeGuard]
) -> None:
    """`GET /d` on `router`, looking codes up with `token_of_code`, as `guard` allows."""

    @router.get(
        "/d",
        response_model=None,
        response_class=HTMLResponse,
        responses={
            200: {"description": "the form (HTML), in the driver's language"},
            303: {"description": "the code found: to the truck's page (`Location: /d/{token}`)"},
            404: {
                "description": "no truck has this code: the form again, saying so",
                "content": {"text/html": {}},
            },
            429: {
                "description": "too many codes not found from this address: the form again, "
                "saying how long to wait (`Retry-After`)",
                "content": {"text/html": {}},
            },
        },
    )
    async def code_page(
        request: Request,
        code: Annotated[str | None, Query(description="the short code, as typed")] = None,
        # any text: one not a language of the page is passed over, as on the page
        lang: Annotated[str | None, Query(max_length=500)] = None,
        accept_language: Annotated[str | None, Header(max_length=500)] = None,
    ) -> Response:
        """The driver types the code printed at the waiting area; it opens the truck's page."""
        language = pick_language(lang, accept_language, request.cookies.get(CHOSEN_COOKIE))
        # the language asked for by the link (kept by the form and on the page it opens)
        chosen = asked_language(lang)
        headers = {
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "Content-Language": language,
            "Vary": "Accept-Language",
        }
        if code is None:
            return keep_choice(
                HTMLResponse(code_form(language, chosen=chosen), headers=headers), lang
            )
        normal = normal_code(code) if len(code) <= _MOST_TYPED else ""
        if not could_be_code(normal):
            # no code has this shape: said so, and not looked up nor counted (a guesser
            # learns nothing from it; a driver's slip costs no try)
            body = code_form(language, chosen=chosen, typed=code, misshapen=True)
            return HTMLResponse(body, status_code=404, headers=headers)
        limits, address = guard(), client_address(request)
        wait = limits.wait(address)
        if wait > 0:
            body = code_form(language, chosen=chosen, typed=code, wait_s=wait)
            headers["Retry-After"] = retry_after(wait)
            return HTMLResponse(body, status_code=429, headers=headers)
        token = await token_of_code(normal)
        if token is None:
            limits.failed(address)
            body = code_form(language, chosen=chosen, typed=code, wrong=True)
            return HTMLResponse(body, status_code=404, headers=headers)
        limits.found(address, normal)
        where = f"/d/{token}" + (f"?lang={chosen}" if chosen else "")
        return RedirectResponse(where, status_code=303, headers={"Cache-Control": "no-store"})
