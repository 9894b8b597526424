"""Which requests for a missing driver's page get the HTML 404 page (a browser's) and
which the JSON problem (an API client's): services/drivers/not_found.py."""

from __future__ import annotations

import pytest

from services.drivers.not_found import not_found_page, prefers_html


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("text/html", True),
        ("text/html;q=0.9, application/json;q=0.5", True),
        ("application/json;q=0.5, text/html", True),
        (None, False),
        ("", False),
        ("*/*", False),
        ("application/json", False),
        ("application/problem+json", False),
        ("application/json, text/html", False),
        ("text/html;q=0.5, application/json", False),
        ("text/html;q=0, */*", False),
        ("text/html;q=oops", False),
    ],
)
def test_html_is_preferred_only_when_listed_before_json_or_without_it(
    accept: str | None, html: bool
) -> None:
    assert prefers_html(accept) is html


def test_the_page_is_a_404_in_the_language_asked() -> None:
    page = not_found_page("vi")
    assert page.status_code == 404 and page.headers["content-language"] == "vi"
    assert '<html lang="vi">' in bytes(page.body).decode()


def test_the_page_leads_to_the_form_to_type_the_code_into() -> None:
    """It says to use the code printed at the waiting area; it links to where to type it
    (`/d`), in the same language."""
    assert '<a href="/d?lang=zh">打开您货车的页面</a>' in bytes(not_found_page("zh").body).decode()
