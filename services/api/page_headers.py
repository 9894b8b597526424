"""Browser-facing headers on every answer, as plain ASGI: what a page may load, who may
frame it, what it tells the sites it links to, and no content-type guessing.

- every answer: `X-Content-Type-Options: nosniff` (a JSON answer or a script is never
  taken for HTML);
- every HTML page: `X-Frame-Options: DENY` and `Referrer-Policy: no-referrer` unless the
  route set its own, and a `Content-Security-Policy`: the drivers' pages (`/d`, `/d/...`)
  get `DRIVER_CSP` (their own script and data only; their inline styles), any other page
  without one of its own (the API's `/docs` and `/redoc`, which load their scripts from a
  CDN) at least `frame-ancestors 'none'`. The control room sets its own (stricter) CSP.

Before 2026-12-06 the drivers' pages, `/docs` and `/redoc` had none of these: a driver's
page could be framed by any site and a script injected into one would have run freely."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DRIVER_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
ANY_PAGE_CSP = "frame-ancestors 'none'"


def _is_driver_path(path: str) -> bool:
    return path == "/d" or path.startswith("/d/")


class PageHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        driver = _is_driver_path(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                media = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                wanted = [(b"x-content-type-options", b"nosniff")]
                if media.lower().startswith(b"text/html"):
                    csp = DRIVER_CSP if driver else ANY_PAGE_CSP
                    wanted += [
                        (b"content-security-policy", csp.encode()),
                        (b"x-frame-options", b"DENY"),
                        (b"referrer-policy", b"no-referrer"),
                    ]
                headers += [(name, value) for name, value in wanted if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
