"""The SMS adapter: the text of a call to the driver's phone through an SMS gateway (an
interface: each provider's client implements `SmsGateway`), and a local fake gateway that
keeps what it was sent, for tests and the demo (it can be put down to test retries)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from services.notify.port import Notification, NotifierDown


class SmsGatewayDown(Exception):
    """The gateway did not take the message."""


class SmsGateway(Protocol):
    async def send_sms(self, *, to: str, text: str, key: str) -> None:
        """Send `text` to `to`; `key` is the idempotency key; SmsGatewayDown if not taken."""
        ...


class SmsNotifier:
    """The call's text to the driver's phone (`phone_of(visit_id)`; None: no SMS)."""

    def __init__(self, gateway: SmsGateway, phone_of: Callable[[str], str | None]) -> None:
        self.gateway, self.phone_of = gateway, phone_of

    async def send(self, note: Notification) -> None:
        phone = self.phone_of(note.visit_id)
        if phone is None:
            return
        try:
            await self.gateway.send_sms(to=phone, text=note.text, key=note.call_id)
        except SmsGatewayDown as exc:
            raise NotifierDown(f"sms gateway: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Sms:
    to: str
    text: str
    key: str


@dataclass
class FakeSmsSink:
    """An SMS gateway that keeps the messages; `down` makes it refuse them."""

    down: bool = False
    sent: list[Sms] = field(default_factory=list)
    refused: int = 0

    async def send_sms(self, *, to: str, text: str, key: str) -> None:
        if self.down:
            self.refused += 1
            raise SmsGatewayDown("fake sink is down")
        self.sent.append(Sms(to, text, key))


# the stand-in number of a truck whose driver gave no phone (`demo_call_router`)
STAND_IN = "fake:"


@dataclass
class LoggingSmsSink(FakeSmsSink):
    """The fake sink of the demo: keeps the messages and logs each one, at INFO when it went
    to a phone a booking gave (a person trying the demo looks for theirs), at DEBUG when to a
    stand-in number (every simulated truck has one: at INFO they buried the demo's output)."""

    async def send_sms(self, *, to: str, text: str, key: str) -> None:
        await super().send_sms(to=to, text=text, key=key)
        level = logging.DEBUG if to.startswith(STAND_IN) else logging.INFO
        logging.getLogger(__name__).log(level, "fake SMS to %s: %s", to, text)
