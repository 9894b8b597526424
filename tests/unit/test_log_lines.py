"""A client cannot write lines of its own into the text log (found by a stranger's try on
`borderflow up`: `GET /d/%0D%0A09:99:99%20INFO%20services.notify.sms:%20FORGED` put a
second line, `09:99:99 INFO services.notify.sms: FORGED 404 67.3 ms`, in the terminal's log
under the access line, and `/d/%00` a NUL that made `grep` call the log binary). The access
line logs the decoded path; the text format now escapes every control character of a
record's message, the JSON format already did."""

from __future__ import annotations

import io
import logging
from typing import Any, cast

import httpx

from services.api.app import ApiContext, create_app
from services.api.ratelimit import RateLimiter
from services.gates.loader import default_gates
from services.runtime.logs import TextFormatter
from services.runtime.settings import KafkaSettings


async def test_a_path_with_line_breaks_is_one_access_line() -> None:
    context = ApiContext(
        sessions=cast(Any, None),  # an unknown route reads no database
        kafka=KafkaSettings(bootstrap="127.0.0.1:9"),
        bootstrap="127.0.0.1:9",
        gates=default_gates(),
        default_gate="huu-nghi",
        limiter=RateLimiter(rate=10_000.0, burst=10_000),
    )
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(TextFormatter())  # as `setup_logging` gives the terminal
    access = logging.getLogger("borderflow.access")
    level = access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        transport = httpx.ASGITransport(app=create_app(context))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            forged = "/v1/x%0D%0A09:99:99%20INFO%20services.notify.sms:%20FORGED"
            assert (await client.get(forged)).status_code == 404
            for path in ("/v1/y%00z", "/v1/%E2%80%A8w%C2%85", "/v1/ok"):
                assert (await client.get(path)).status_code == 404
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    lines = out.getvalue().splitlines()
    assert len(lines) == 4, lines
    assert lines[0].endswith(
        r"borderflow.access: GET /v1/x\r\n09:99:99 INFO services.notify.sms: FORGED 404 "
        + lines[0].rsplit(" 404 ", 1)[1]
    ), lines[0]
    assert r"GET /v1/y\x00z 404" in lines[1]
    assert r"GET /v1/\u2028w\x85 404" in lines[2]
    assert "GET /v1/ok 404" in lines[3]  # nothing else changes


def test_a_traceback_is_still_printed_below_its_line() -> None:
    formatter = TextFormatter()
    try:
        raise ValueError("bad\nvalue")
    except ValueError as exc:
        record = logging.getLogger("t").makeRecord(
            "t", logging.ERROR, "f", 1, "failed: %s", (exc,), (type(exc), exc, exc.__traceback__)
        )
    text = formatter.format(record)
    first, *rest = text.splitlines()
    assert first.endswith(r"ERROR   t: failed: bad\nvalue")
    assert rest[0] == "Traceback (most recent call last):" and rest[-2:] == [
        "ValueError: bad",
        "value",
    ]
