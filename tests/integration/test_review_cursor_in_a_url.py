"""A page of `GET /v1/review` pasted into a URL as it is gives the next page. Found by a
tester as a lane controller paging the review queue with curl: the page's `next` was
`2026-12-06T14:05:34.617000+00:00|d-...`, and in a query string the `+` of its offset reads
as a space, so the next request was refused (`422 after: not a cursor: '...617000 00:00|d-...'
(pass a page's next as it is)`), passed as it was. The cursor now ends its time in `Z`, and
one with its `+` read as a space (an older page's) is read as meant."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.browser.live import PASSWORD
from tests.browser.test_review_order import VISITS, three_in_review
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


async def test_a_next_pasted_into_the_url_pages_on(tmp_path: Path) -> None:
    plates = [plate for plate, _, _ in VISITS]
    async with (
        api_on_a_port(tmp_path, seed=three_in_review) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        login = {"username": "vic", "password": PASSWORD}
        assert (await client.post("/control/api/login", json=login)).status_code == 200
        first = (await client.get("/v1/review?limit=2")).json()
        cursor = first["next"]
        assert "+" not in cursor and " " not in cursor, cursor
        # as curl sends `"localhost:8000/v1/review?after=$NEXT"`: the text as it is
        rest = await client.get(f"/v1/review?after={cursor}")
        assert rest.status_code == 200, rest.text
        assert [i["plate"] for i in first["items"] + rest.json()["items"]] == plates
        # a cursor of before the change, its `+` read as a space in the query string
        old = cursor.replace("Z|", "+00:00|")
        again = await client.get(f"/v1/review?after={old}")
        assert again.status_code == 200, again.text
        assert [i["plate"] for i in again.json()["items"]] == plates[2:]
