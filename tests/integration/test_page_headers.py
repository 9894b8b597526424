"""Every HTML page of the API app says what it may load and who may frame it
(services/api/page_headers.py). Found by a security review: a driver's page (`/d/<token>`,
which checks the truck in), the code form (`/d`), its 404 page, `/docs` and `/redoc` had no
Content-Security-Policy, no frame-ancestors / X-Frame-Options and no nosniff, so any site
could frame a driver's page. The control room's own stricter policy is kept. SQLite and
PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.page_headers import DRIVER_CSP
from services.control.routes import CSP as CONTROL_CSP
from tests.integration.test_bookings_api import _book, keys, local_slot, make_client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
__all__ = ["keys"]  # the fixture

HTML = {"Accept": "text/html"}


def framing_refused(answer: httpx.Response) -> None:
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


async def test_every_page_refuses_framing_and_the_drivers_run_only_their_own_script(
    engine: AsyncEngine, keys: dict[str, str]
) -> None:
    async with make_client(engine) as c:
        made = (await _book(c, keys["a"], "A-1", local_slot(1, 10), "k-headers")).json()
        path = "/d/" + made["driver_page"].split("/d/", 1)[1]
        for driver_page in (path, "/d", "/d/no-such-token", "/d/c/ZZZZZZZZ"):
            answer = await c.get(driver_page, headers=HTML)
            assert answer.headers["content-type"].startswith("text/html"), driver_page
            framing_refused(answer)
            assert answer.headers["content-security-policy"] == DRIVER_CSP, driver_page
            assert answer.headers["referrer-policy"] == "no-referrer", driver_page
        for page in ("/docs", "/redoc"):
            framing_refused(await c.get(page))
        control = await c.get("/control")
        framing_refused(control)
        assert control.headers["content-security-policy"] == CONTROL_CSP  # its own, kept
        # a script, the page's data: never sniffed as something else
        for other in ("/d-static/driver.js", f"{path}/state", "/v1/manifests"):
            assert (await c.get(other)).headers["x-content-type-options"] == "nosniff", other
