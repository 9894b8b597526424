"""The drivers' small pages' one shell (the form at `/d`, `code_form.py`; the 404 page,
`not_found.py`): a phone's page in the driver's language, no referrer sent on, one style.
The truck's own page is `web/driver.html`, a page of its own (its script, its live data)."""

from __future__ import annotations

import html

_SHELL = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>
  body {{ font: 18px/1.4 system-ui, sans-serif; margin: 0; padding: 1rem; color: #111; }}
  h1 {{ font-size: 1.3rem; margin: 0 0 1rem; }}
  nav {{ font-size: .9rem; margin-bottom: 1rem; }}
  nav a[aria-current] {{ font-weight: bold; text-decoration: none; color: #111; }}
{style}</style>
</head>
<body>
{body}</body>
</html>
"""


def small_page(language: str, title: str, body: str, *, style: str = "") -> str:
    """A page in `language` (one of LANGUAGES) titled `title` (text, escaped here), with
    `body` (HTML, escaped by the caller) and the page's own `style` rules, if any."""
    return _SHELL.format(lang=language, title=html.escape(title), body=body, style=style)
