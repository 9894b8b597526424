"""The site's icon: every page (the control room, the drivers' pages) made the browser ask
for `/favicon.ico` and log a 404 in its console (found by a tester as a lane controller)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.test_bookings_api import make_client

pytestmark = pytest.mark.integration


async def test_the_browser_s_icon_request_is_answered(engine: AsyncEngine) -> None:
    async with make_client(engine) as client:
        answer = await client.get("/favicon.ico")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    assert answer.text.startswith("<svg") and answer.text.rstrip().endswith("</svg>")
    assert "max-age" in answer.headers["cache-control"]
