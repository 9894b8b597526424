"""Browser fixtures: Debian's chromium driven by Playwright for Python (never
`playwright install`: nothing is downloaded), and where the screenshots go.

One chromium serves the whole session (starting Playwright's driver and chromium took
~1.5 s a test on the loaded 2-core VM, 61 tests); each test gets it with no context
open and its own contexts (cookies, storage, cache: `new_page` opens a context of its own
too) are closed after it. Playwright's objects belong to the event loop that started them,
so the browser tests run in the session's loop (`pytest_collection_modifyitems`)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Playwright, async_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests (only they) run in the session's event loop, the shared chromium's."""
    in_session_loop = pytest.mark.asyncio(loop_scope="session")
    for item in items:
        if pytest_asyncio.is_async_test(item) and HERE in Path(item.path).parents:
            item.add_marker(in_session_loop, append=False)


class _Chromium:
    """The session's chromium, launched again if a test left it disconnected (crashed)."""

    def __init__(self, playwright: Playwright) -> None:
        self.playwright = playwright
        self.launched: Browser | None = None

    async def browser(self) -> Browser:
        if self.launched is None or not self.launched.is_connected():
            self.launched = await self.playwright.chromium.launch(
                executable_path=CHROMIUM, args=ARGS
            )
        return self.launched


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _chromium() -> AsyncIterator[_Chromium]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - one stat at set-up
        pytest.fail(f"{CHROMIUM} missing: install Debian's chromium package")
    async with async_playwright() as p:
        chromium = _Chromium(p)
        try:
            yield chromium
        finally:
            if chromium.launched is not None:
                await chromium.launched.close()


@pytest_asyncio.fixture(loop_scope="session")
async def browser(_chromium: _Chromium) -> AsyncIterator[Browser]:
    """The session's chromium with no context open; the test's contexts closed after it."""
    launched = await _chromium.browser()
    for left in launched.contexts:  # none: the last test's were closed
        await left.close()
    try:
        yield launched
    finally:
        if launched.is_connected():
            for context in launched.contexts:
                await context.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Screenshots: BORDERFLOW_SCREENSHOTS (e.g. `docs`) or the test's tmp dir."""
    folder = Path(os.environ.get("BORDERFLOW_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
