"""The call router (services/notify/routing.py): the firm's webhook and the driver's SMS are
each tried whatever the other does, and a channel that took a call is not sent it again
when the call is retried for the other (found by a stranger's try: a firm's webhook
answering 500 kept every driver of that firm from getting the call's SMS)."""

from __future__ import annotations

from typing import Any, cast

import httpx
import pytest

from services.notify.port import Notification, NotifierDown
from services.notify.routing import CallRouter
from services.notify.sms import FakeSmsSink


class _Router(CallRouter):
    """The router without its database: the firm's webhook and the driver's mobile given."""

    async def webhook_of(self, manifest_id: str | None) -> str | None:
        return "https://firm.example/calls"

    async def phone(self, visit_id: str) -> str | None:
        return "+84912345678"


async def _public(host: str, port: int) -> list[str]:
    """The firm's name as DNS would answer it (no network in the tests): a public address."""
    assert (host, port) == ("firm.example", 443)
    return ["93.184.215.14"]


NOTE = Notification(
    "wa-1/call-1", "wa-1", "huu-nghi", "truck.called", "Go to the gate now, HN-E3.",
    {"manifest_id": "MF-1", "call_id": "wa-1/call-1"},
)  # fmt: skip


async def test_a_failing_webhook_does_not_keep_the_sms_and_nothing_is_sent_twice() -> None:
    firm_up = False
    posted: list[str] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        posted.append(request.headers["Idempotency-Key"])
        return httpx.Response(204 if firm_up else 500)

    sink = FakeSmsSink()
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        router = _Router(sessions=cast(Any, None), client=client, sms=sink, resolve=_public)
        with pytest.raises(NotifierDown):
            await router.send(NOTE)  # the webhook fails: retried later
        assert [s.to for s in sink.sent] == ["+84912345678"]  # the driver has the call
        with pytest.raises(NotifierDown):
            await router.send(NOTE)
        firm_up = True
        await router.send(NOTE)
    assert [s.to for s in sink.sent] == ["+84912345678"]  # once, through three tries
    assert posted == ["wa-1/call-1"] * 3


async def test_the_sms_gateway_down_does_not_keep_the_webhook() -> None:
    posted: list[str] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        posted.append(request.headers["Idempotency-Key"])
        return httpx.Response(204)

    sink = FakeSmsSink(down=True)
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        router = _Router(sessions=cast(Any, None), client=client, sms=sink, resolve=_public)
        with pytest.raises(NotifierDown):
            await router.send(NOTE)
        sink.down = False
        await router.send(NOTE)
    assert posted == ["wa-1/call-1"] and len(sink.sent) == 1
