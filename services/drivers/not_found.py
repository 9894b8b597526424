"""A wrong or expired driver's link or short code opened in a browser: a small 404 page in
the browser's language (what to do, and a link to the form to type the code into, `/d`),
rather than the API's JSON problem, which an API client (one that does not prefer HTML)
still gets."""

from __future__ import annotations

import html

from fastapi.responses import Response

from services.drivers.i18n import WORDS
from services.drivers.shell import small_page

_JSON = frozenset({"application/json", "application/problem+json"})

_PAGE = """<h1>{title}</h1>
<p>{what}</p>
<p><a href="/d?lang={lang}">{type_code}</a></p>
"""


def prefers_html(accept: str | None) -> bool:
    """Whether the Accept header lists text/html (q > 0) before application/json (or its
    problem form), or lists it and no JSON: a browser's navigation does, an API client
    (`application/json`, `*/*`, none) does not."""
    ranked: dict[str, tuple[float, int]] = {}
    for n, part in enumerate((accept or "").split(",")):
        media, _, params = part.partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranked.setdefault(media.strip().lower(), (-q, n))
    page = ranked.get("text/html")
    if page is None or page[0] >= 0:
        return False
    return all(page < rank for media, rank in ranked.items() if media in _JSON)


def not_found_page(language: str) -> Response:
    """The 404 page, in `language` (one of LANGUAGES)."""
    words = WORDS[language]
    body = _PAGE.format(
        lang=language,
        title=html.escape(words["not_found"]),
        what=html.escape(words["not_found_what"]),
        type_code=html.escape(words["code_title"]),  # the form to type the code into
    )
    page = small_page(language, words["not_found"], body)
    return Response(
        page,
        status_code=404,
        media_type="text/html; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "Content-Language": language,
            "Vary": "Accept, Accept-Language",
        },
    )
