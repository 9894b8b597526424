"""`GET /d`: the form a driver types the short code into (the code printed at the waiting
area, or told by the area's staff), in the page's language (`?lang=`, else the browser's
Accept-Language), switchable as the page is. `GET /d?code=...` (the form sent, no
JavaScript needed) looks the code up as `/d/c/{code}` does (any case, spaces, hyphens,
full-width letters): found, a redirect to the truck's page; not found, the same form again
with a message in the driver's language (404), which says nothing of any other truck. Too
many codes not found from the driver's address (`guard.py`): the form again, saying in the
driver's language how long to wait (429, `Retry-After`), the code not looked up, and, where
the page source knows trucks' plates, asking for the truck's plate with the code:
`GET /d?code=...&plate=...` from a refused address opens the page when the code's truck has
that plate, and else answers the form again saying no truck has both (404, the same whether
the code is one or not), its wrong pairs limited apart (`CodeGuard.pair_wait`)."""

from __future__ import annotations

import html
import math
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.drivers.guard import CodeGuard
from services.drivers.hub import could_be_code, normal_code, normal_plate
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
  label[for="plate"] { margin-top: 1rem; }
"""
_FORM = """<nav>{switch}</nav>
<h1>{title}</h1>
<form method="get" action="/d">
{wrong}<label for="code">{label}</label>
<input id="code" name="code" value="{typed}" autocomplete="off" autocapitalize="characters"
       spellcheck="false" required maxlength="{most}"{invalid}>
{plate}{keep_lang}<button type="submit">{open}</button>
</form>
"""

_PLATE = """<label for="plate">{label}</label>
<input id="plate" name="plate" value="{typed}" autocomplete="off" autocapitalize="characters"
       spellcheck="false" maxlength="{most}" autofocus>
"""

TokenOfCode = Callable[[str], Awaitable[str | None]]
# the page with a code and its truck's plates, normalised (`DbPages.plates_of_code`)
PlatesOfCode = Callable[[str], Awaitable[tuple[str, frozenset[str]] | None]]


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
    plate: str | None = None,
    plate_wrong: bool = False,
) -> str:
    """The form in `language`; `chosen`: the language asked for by `?lang=` (kept by the
    form); `wrong`: the code typed found no truck (said, the typed text kept to correct);
    `wait_s`: too many codes not found from this address, the seconds to wait (said);
    `plate`: the truck's plate is asked for too (the text typed, kept); `plate_wrong`: no
    truck has the code typed with that plate (said)."""
    words = WORDS[language]
    switch = language_links(language, "/d")
    said = words["code_shape"] if misshapen else words["code_wrong"]
    if plate_wrong and not misshapen:
        said = words["plate_wrong"]
    wrong = wrong or misshapen or plate_wrong
    if wait_s is not None:
        waiting = "code_wait" if plate is None else "code_plate_wait"
        wrong, said = True, words[waiting].format(minutes=max(1, math.ceil(wait_s / 60)))
    asked = ""
    if plate is not None:
        label, typed_plate = html.escape(words["plate_label"]), html.escape(plate[:_MOST_TYPED])
        asked = _PLATE.format(label=label, typed=typed_plate, most=_MOST_TYPED)
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
        plate=asked,
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
    router: APIRouter,
    token_of_code: TokenOfCode,
    guard: Callable[[], CodeGuard],
    plates_of_code: PlatesOfCode | None = None,
) -> None:
    """`GET /d` on `router`, looking codes up with `token_of_code`, as `guard` allows; with
    `plates_of_code`, a refused address may give the code with the truck's plate."""

    @router.get(
        "/d",
        response_model=None,
        response_class=HTMLResponse,
        responses={
            200: {"description": "the form (HTML), in the driver's language"},
            303: {"description": "the code found: to the truck's page (`Location: /d/{token}`)"},
            404: {
                "description": "no truck has this code (or, from a refused address, this "
                "code with this plate): the form again, saying so",
                "content": {"text/html": {}},
            },
            429: {
                "description": "too many codes not found from this address: the form again, "
                "saying how long to wait (`Retry-After`) and asking for the truck's plate "
                "with the code",
                "content": {"text/html": {}},
            },
        },
    )
    async def code_page(
        request: Request,
        code: Annotated[str | None, Query(description="the short code, as typed")] = None,
        plate: Annotated[
            str | None,
            Query(
                description="the truck's plate, as typed: read only while the address's "
                "codes are refused (429), when it opens the page of the code's truck if that "
                "truck has this plate"
            ),
        ] = None,
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
        # the plate field, kept on the form once asked for (and only where plates are known)
        kept = None if plates_of_code is None else plate
        if not could_be_code(normal):
            # no code has this shape: said so, and not looked up nor counted (a guesser
            # learns nothing from it; a driver's slip costs no try)
            body = code_form(language, chosen=chosen, typed=code, misshapen=True, plate=kept)
            return HTMLResponse(body, status_code=404, headers=headers)
        limits, address = guard(), client_address(request)
        wait = limits.wait(address)
        if wait > 0 and plates_of_code is not None:
            # the codes from this address are refused: the code is looked up with the
            # truck's plate only, its wrong pairs limited apart (`guard.py`)
            typed_plate = normal_plate(plate) if plate and len(plate) <= _MOST_TYPED else ""
            pair_wait = limits.pair_wait(address)
            if not typed_plate or pair_wait > 0:
                # the plate asked for; the wait said is until either way opens again
                wait = min(wait, pair_wait) if pair_wait > 0 else wait
                body = code_form(
                    language, chosen=chosen, typed=code, wait_s=wait, plate=plate or ""
                )
                headers["Retry-After"] = retry_after(wait)
                return HTMLResponse(body, status_code=429, headers=headers)
            found = await plates_of_code(normal)
            if found is None or typed_plate not in found[1]:
                # the same answer whether the code is a truck's or not: a guesser learns
                # nothing of the codes from it
                limits.pair_failed(address)
                body = code_form(language, chosen=chosen, typed=code, plate=plate, plate_wrong=True)
                return HTMLResponse(body, status_code=404, headers=headers)
            token = found[0]
        elif wait > 0:
            body = code_form(language, chosen=chosen, typed=code, wait_s=wait)
            headers["Retry-After"] = retry_after(wait)
            return HTMLResponse(body, status_code=429, headers=headers)
        else:
            found_token = await token_of_code(normal)
            if found_token is None:
                limits.failed(address)
                body = code_form(language, chosen=chosen, typed=code, wrong=True)
                return HTMLResponse(body, status_code=404, headers=headers)
            limits.found(address, normal)
            token = found_token
        where = f"/d/{token}" + (f"?lang={chosen}" if chosen else "")
        return RedirectResponse(where, status_code=303, headers={"Cache-Control": "no-store"})
