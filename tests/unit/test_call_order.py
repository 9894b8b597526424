"""The call notifier's use cases on the in-memory adapter: a truck's later call is held, on
the channels its earlier call has not taken yet, until that call is (the database's
adapter and the router: tests/integration/test_call_order.py)."""

from __future__ import annotations

from datetime import timedelta

from services.adapters.memory_call_notices import MemoryCallNotices
from services.ports.calls import Notification, NotifierDown
from services.service_layer.call_notices import KeepCalls
from tests.unit.test_call_notice_handlers import Clock, make, notice


class FirmDown:
    """The SMS takes every call; the firm's webhook refuses while `down`, and is not sent
    a call held on it."""

    def __init__(self) -> None:
        self.down = True
        self.notes: list[Notification] = []
        self.posted: list[str] = []

    async def send(self, note: Notification) -> None:
        self.notes.append(note)
        if self.down or "webhook" in note.held:
            raise NotifierDown("webhook down or held", sent=frozenset({"sms"}))
        self.posted.append(note.call_id)


async def test_a_later_call_waits_for_the_earlier_on_the_channel_it_lacks() -> None:
    data, clock, firm = MemoryCallNotices(), Clock(), FirmDown()
    notices = make(data, firm, clock)  # type: ignore[arg-type]
    await notices.keep(KeepCalls((notice("wa-1/call-1"),)))
    assert await notices.deliver_due() == 0
    clock.now += timedelta(seconds=1)
    await notices.keep(KeepCalls((notice("wa-1/call-2"), notice("wa-2/call-1", "wa-2"))))
    await notices.deliver_due()
    held = {n.call_id: n.held for n in firm.notes}
    # held on the webhook only (its call's SMS went), another truck's call not at all
    assert held["wa-1/call-2"] == {"webhook"} and held["wa-2/call-1"] == frozenset()
    # tried again with the call it waits for, not after a backoff of its own
    calls = data.calls
    assert calls["wa-1/call-2"].next_attempt_at == calls["wa-1/call-1"].next_attempt_at

    firm.down = False
    clock.now += timedelta(minutes=10)  # every retry due
    while await notices.deliver_due():
        pass
    assert firm.posted.index("wa-1/call-1") < firm.posted.index("wa-1/call-2")
    assert all(c.delivered_at is not None for c in calls.values())
