"""The notifier port: send one call's notification, or raise NotifierDown to be retried.
Every adapter passes the call id on as the idempotency key, so a receiver that saw a call
(a retry after a lost reply) can drop the repeat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class NotifierDown(Exception):
    """The notifier could not take the notification now (to be retried with backoff)."""


@dataclass(frozen=True, slots=True)
class Notification:
    call_id: str  # the idempotency key
    visit_id: str
    gate_id: str
    type: str  # truck.called, truck.recalled, truck.place_lost
    text: str  # for a person (an SMS)
    data: dict[str, Any]  # the call event (CallEventV1), for a system


class Notifier(Protocol):
    async def send(self, note: Notification) -> None:
        """Deliver `note`; raise NotifierDown when it was not taken."""
        ...


def text_of(data: dict[str, Any]) -> str:
    """A short message for the driver (English; the drivers' page speaks their language)."""
    kind = data.get("type")
    if kind == "truck.place_lost":
        return f"borderflow: you lost your place in the waiting area: {data.get('reason', '')}"
    place = data.get("lane_id") or f"carrier slot {data.get('carrier_slot')}"
    word = "Reminder: go" if kind == "truck.recalled" else "Go"
    return f"borderflow: {word} to the gate now, {place}. Be there by {data.get('deadline')}."
