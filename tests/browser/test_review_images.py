"""A plate read's camera image is loaded only from the page's own origin, data: and the
origins BORDERFLOW_CONTROL_IMAGE_SOURCES allows; any other image_ref is shown as a link and
never fetched. Found by a security review: the control room's CSP allowed images from any
http(s) URL and the page made an <img> of every one, so a read produced with an attacker's
URL (anyone producing plate reads writes image_ref) made each controller's browser fetch it.

Two small image servers stand in for a gate's camera store (allowed) and an attacker's
(not): the page loads the first, shows the second as a link, and the second is asked
nothing. Before the fix it was asked for the image."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from services.bootstrap import Infrastructure
from services.db.tables import PlateReadRow
from tests.browser.live import free_port
from tests.browser.test_control_room import log_in
from tests.browser.test_review_order import in_review
from tests.integration.test_staff_cookie import api_on_a_port

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(90)]

PNG = base64.b64decode(  # 1x1, transparent
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
PLATE = "29H30001"


@asynccontextmanager
async def image_server() -> AsyncIterator[tuple[str, list[str]]]:
    """An HTTP server answering every GET with PNG; yields its origin and the request lines
    it got."""
    asked: list[str] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        asked.append(head.split(b"\r\n", 1)[0].decode())
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n"
            + f"Content-Length: {len(PNG)}\r\n\r\n".encode()
            + PNG
        )
        await writer.drain()
        writer.close()

    port = free_port()
    server = await asyncio.start_server(answer, "127.0.0.1", port)
    try:
        yield f"http://127.0.0.1:{port}", asked
    finally:
        server.close()
        await server.wait_closed()


def reads_with_images(*refs: str) -> Callable[[Infrastructure], Awaitable[None]]:
    async def seed(infra: Infrastructure) -> None:
        now = datetime.now(UTC)
        async with infra.sessions() as session, session.begin():
            session.add_all(
                in_review(
                    PLATE,
                    arrived=now - timedelta(minutes=5),
                    decided=now - timedelta(minutes=4),
                    clock=now,
                )
            )
            for i, ref in enumerate(refs):
                session.add(
                    PlateReadRow(
                        event_id=f"r-{i}",
                        camera_id="hn-exp-gate-1",
                        gate_id="huu-nghi",
                        captured_at=now - timedelta(minutes=5, seconds=-i),
                        plate_text=PLATE,
                        plate=PLATE,
                        confidence=0.6,
                        payload={"image_ref": ref},
                        visit_id=f"v-{PLATE}",
                        source_topic="borderflow.plate-reads",
                        source_partition=0,
                        source_offset=i,
                        received_at=now,
                    )
                )

    return seed


async def test_a_read_s_image_from_a_source_not_allowed_is_a_link_never_fetched(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with image_server() as (camera, camera_asked), image_server() as (hostile, asked):
        monkeypatch.setenv("BORDERFLOW_CONTROL_IMAGE_SOURCES", camera)
        allowed = f"{camera}/frames/1.png"
        tracking = f"{hostile}/pixel.png?who=controller"
        inline = "data:image/png;base64," + base64.b64encode(PNG).decode()
        seed = reads_with_images(allowed, tracking, inline)
        async with api_on_a_port(tmp_path, seed=seed) as port:
            page = await browser.new_page(viewport={"width": 1280, "height": 720})
            await log_in(page, f"http://127.0.0.1:{port}", "ana")
            item = page.locator(f'[data-review="v-{PLATE}"]')
            await expect(item.locator("tr td img")).to_have_count(2)
            assert await item.locator("tr td img").nth(0).get_attribute("src") == allowed
            assert await item.locator("tr td img").nth(1).get_attribute("src") == inline
            link = item.locator("a.image-link")
            await expect(link).to_have_text(tracking)
            assert await link.get_attribute("href") == tracking
            assert await link.get_attribute("rel") == "noopener noreferrer"
            # the allowed image was loaded (so the page did try), the other never asked for
            await expect(item.locator("tr td img").nth(0)).to_have_js_property("naturalWidth", 1)
            assert camera_asked == ["GET /frames/1.png HTTP/1.1"]
            # an <img> made by a script (an injected one) is refused by the policy, unfetched
            directive, blocked = await page.evaluate(
                """src => new Promise(done => {
                    document.addEventListener("securitypolicyviolation",
                        e => done([e.effectiveDirective, e.blockedURI]), { once: true });
                    const img = document.createElement("img");
                    img.src = src;
                    document.body.append(img);
                })""",
                tracking,
            )
            assert directive == "img-src" and blocked.startswith(hostile), (directive, blocked)
            await page.close()
        assert asked == []
