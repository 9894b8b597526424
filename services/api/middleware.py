"""Request ids and access logs, as plain ASGI (no per-request task or body copy).

Every request gets an id: the caller's `X-Request-ID` when it is a sane token, else a new
UUID. It is returned in the `X-Request-ID` response header, put on every log record made
while the request runs (`request_id`, in the JSON logs), and logged with the method, path,
status and duration when the response is done."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.runtime.logs import REQUEST_ID
from services.runtime.metrics import HTTP_SECONDS

SCOPE_KEY = "borderflow.request_id"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("borderflow.access")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _SANE.match(given) else str(uuid.uuid4())
        token = REQUEST_ID.set(request_id)
        scope[SCOPE_KEY] = request_id  # for the last-resort error handler, which runs outside
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")  # the template, not ids
            HTTP_SECONDS.labels(scope.get("method"), route, str(status)).observe(
                time.perf_counter() - started
            )
            access_log.info(
                "%s %s %s %.1f ms",
                scope.get("method"),
                scope.get("path"),
                status,
                1000 * (time.perf_counter() - started),
                extra={"status": status, "path": scope.get("path")},
            )
            REQUEST_ID.reset(token)


MAX_BODY = 1024 * 1024  # bytes of a request body: a manifest or booking is a few hundred


class BodyLimitMiddleware:
    """A request body over `limit` bytes is a 413 problem, before anything reads it: by its
    Content-Length when it says, else as it streams in (found by a stranger's try: 100 MB
    were taken and parsed, and a 5 MB login body was echoed back in a 10 MB error)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._too_large(send)
            return
        seen = 0
        started = answered = False

        async def counting() -> Message:
            nonlocal seen, answered
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    if not started:  # answered here: what the app then sends is dropped
                        await self._too_large(send)
                    answered = True
                    return {"type": "http.disconnect"}
            return message

        async def watching(message: Message) -> None:
            nonlocal started
            if answered:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(ClientDisconnect):
            await self.app(scope, counting, watching)

    async def _too_large(self, send: Send) -> None:
        message = f"over {self.limit} bytes"
        body = json.dumps(
            {
                "type": "urn:borderflow:problem:body-too-large",
                "title": "Content Too Large",
                "status": 413,
                "detail": f"the request body is {message}",
                "errors": [{"field": "body", "message": message}],
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            text: Any = value.decode("latin-1").strip()
            return str(text)
    return None
