"""The drivers' small pages (the form at `/d`, the 404 page) in one shell (`shell.py`):
before, each carried its own copy of the head, and the 404 page had drifted from the form
(no text colour, a browser's default heading size)."""

from __future__ import annotations

import html
import re

import pytest

from services.drivers.code_form import code_form
from services.drivers.i18n import LANGUAGES, WORDS
from services.drivers.not_found import not_found_page

_FORMS_OWN = ("label", "input", "button", "#wrong")


def _head(page: str) -> str:
    """The page up to its body, its title and the form's own style rules left out."""
    head = page[: page.index("<body>")]
    head = re.sub(r"<title>.*</title>", "<title></title>", head)
    lines = head.splitlines()
    own = [n for n, line in enumerate(lines) if line.lstrip().startswith(_FORMS_OWN)]
    if own:  # a rule may run on over several lines, up to the style's end
        lines = lines[: own[0]] + lines[lines.index("</style>") :]
    return "\n".join(lines)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_form_and_the_404_page_have_one_head(language: str) -> None:
    form = code_form(language, chosen=None)
    missing = bytes(not_found_page(language).body).decode()
    assert _head(form) == _head(missing)
    assert f'<html lang="{language}">' in missing
    assert '<meta name="referrer" content="no-referrer">' in missing
    assert f"<title>{html.escape(WORDS[language]['not_found'])}</title>" in missing
    assert f"<title>{html.escape(WORDS[language]['code_title'])}</title>" in form
    assert missing.rstrip().endswith("</body>\n</html>") and form.count("<body>") == 1
