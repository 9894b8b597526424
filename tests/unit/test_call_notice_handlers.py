"""The call notifier's use cases (services/service_layer/call_notices.py) on the in-memory
adapter, a notifier that records or is down, and a clock the test moves: no database, no
broker. The same use cases run on the database behind the `borderflow.calls` consumer
(tests/integration/test_call_notifications.py, test_callforward_worker.py)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from services.adapters.memory_call_notices import MemoryCallNotices
from services.ports.calls import CallNotice, Notification, NotifierDown
from services.service_layer.call_notices import CallNotices, KeepCalls, Retries

WALL = datetime(2030, 1, 1, tzinfo=UTC)
SEC = timedelta(seconds=1)


class Clock:
    def __init__(self) -> None:
        self.now = WALL

    def __call__(self) -> datetime:
        return self.now


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[Notification] = []
        self.down = False

    async def send(self, note: Notification) -> None:
        if self.down:
            raise NotifierDown("gateway away")
        self.sent.append(note)


def notice(call_id: str, visit_id: str = "wa-1") -> CallNotice:
    payload = {
        "call_id": call_id,
        "visit_id": visit_id,
        "gate_id": "huu-nghi",
        "type": "truck.called",
        "lane_id": "EXP-1",
        "deadline": "2026-11-24T03:20:00+00:00",
    }
    return CallNotice(call_id, visit_id, "huu-nghi", "truck.called", payload)


def make(data: MemoryCallNotices, notifier: RecordingNotifier, clock: Clock) -> CallNotices:
    return CallNotices(
        uow=data.stores(),
        notifier=notifier,
        wall=clock,
        retries=Retries(first=2 * SEC, longest=5 * SEC, lease=60 * SEC),
        utc_offsets={"huu-nghi": timedelta(hours=7)},
    )


async def test_a_call_published_twice_is_sent_once_in_the_drivers_language() -> None:
    data, notifier, clock = (
        MemoryCallNotices(languages={"wa-1": "zh"}),
        RecordingNotifier(),
        Clock(),
    )
    notices = make(data, notifier, clock)

    await notices.keep(KeepCalls((notice("c-1"), notice("c-1"), notice("c-2", "wa-2"))))
    assert await notices.deliver_due() == 2
    assert await notices.deliver_due() == 0

    assert [n.call_id for n in notifier.sent] == ["c-1", "c-2"]
    assert "请立即前往口岸" in notifier.sent[0].text
    # the gate's local time, its zone named (a Chinese phone at Huu Nghi is an hour ahead)
    assert notifier.sent[1].text.endswith("Be there by 10:20 (UTC+07:00).")
    assert data.calls["c-1"].delivered_at == WALL and notices.delivered == 2


async def test_a_notifier_down_is_retried_with_backoff() -> None:
    data, notifier, clock = MemoryCallNotices(), RecordingNotifier(), Clock()
    notices = make(data, notifier, clock)
    notifier.down = True

    await notices.keep(KeepCalls((notice("c-1"),)))
    assert await notices.deliver_due() == 0
    kept = data.calls["c-1"]
    assert (kept.attempts, kept.next_attempt_at, kept.last_error) == (
        1,
        WALL + 2 * SEC,
        "gateway away",
    )

    clock.now += SEC  # not due yet
    assert await notices.deliver_due() == 0 and kept.attempts == 1
    clock.now += SEC
    assert await notices.deliver_due() == 0
    assert (kept.attempts, kept.next_attempt_at) == (2, clock.now + 4 * SEC)
    clock.now += 4 * SEC
    await notices.deliver_due()
    assert kept.next_attempt_at == clock.now + 5 * SEC  # at most `longest`

    notifier.down = False
    clock.now += 5 * SEC
    assert await notices.deliver_due() == 1
    assert (kept.attempts, notices.failures, kept.last_error) == (4, 3, None)


async def test_a_claimed_call_is_left_to_the_loop_that_claimed_it() -> None:
    data, notifier, clock = MemoryCallNotices(), RecordingNotifier(), Clock()
    notices = make(data, notifier, clock)
    await notices.keep(KeepCalls((notice("c-1"),)))

    async with data.stores()() as store:  # another loop claims it first
        assert await store.claim("c-1", now=WALL, until=WALL + 60 * SEC) is not None

    assert await notices.deliver_due() == 0 and notifier.sent == []
    clock.now += 60 * SEC  # its lease over: due again
    assert await notices.deliver_due() == 1


class HangingWebhook:
    """A firm's webhook that is down for the calls in `dead`: it refuses them at first,
    then (`hang`) takes them only once `release` is set, as a receiver that hangs until
    the client's timeout; every other call is taken at once."""

    def __init__(self, dead: set[str]) -> None:
        self.dead, self.hang = dead, False
        self.release, self.fresh_sent = asyncio.Event(), asyncio.Event()
        self.sent: list[str] = []

    async def send(self, note: Notification) -> None:
        if note.call_id in self.dead:
            if not self.hang:
                raise NotifierDown("webhook: HTTP 503")
            await self.release.wait()
        self.sent.append(note.call_id)
        if note.call_id not in self.dead:
            self.fresh_sent.set()


async def test_a_hanging_webhook_does_not_hold_back_the_calls_after_it() -> None:
    """Found by a stranger's try: deliveries went one by one, oldest first, `batch` at a
    time, so a firm's webhook hanging to its timeout held every later call (another
    driver's SMS) behind its retries, and with `batch` or more of them due, for ever. A
    fresh call is now tried first, and the due calls in parallel."""
    dead = {"old-1", "old-2", "old-3"}
    data, notifier, clock = MemoryCallNotices(), HangingWebhook(dead), Clock()
    notices = CallNotices(
        uow=data.stores(),
        notifier=notifier,
        wall=clock,
        retries=Retries(first=2 * SEC, longest=5 * SEC, lease=60 * SEC),
        batch=2,
    )
    await notices.keep(KeepCalls(tuple(notice(c, f"wa-{c}") for c in sorted(dead))))
    await notices.deliver_due()  # refused: retried later
    await notices.deliver_due()
    clock.now += 10 * SEC  # the retries are due; the webhook now hangs on them
    notifier.hang = True
    await notices.keep(KeepCalls((notice("fresh", "wa-fresh"),)))

    delivering = asyncio.create_task(notices.deliver_due())
    try:
        async with asyncio.timeout(10):  # a deadline on the condition, not a sleep
            await notifier.fresh_sent.wait()
    finally:
        notifier.release.set()
        await delivering
    assert notifier.sent[0] == "fresh"
    assert data.calls["fresh"].delivered_at is not None


async def test_a_call_not_taken_within_an_hour_is_given_up() -> None:
    """A call's deadline is minutes after it. Before, a receiver that never took it (a
    firm's webhook gone for good) had it retried every 5 minutes for ever: each of that
    firm's calls added to a backlog that the later calls waited behind."""
    data, notifier, clock = MemoryCallNotices(), RecordingNotifier(), Clock()
    notices = make(data, notifier, clock)
    notifier.down = True
    await notices.keep(KeepCalls((notice("c-1"),)))
    tried = 0
    while data.calls["c-1"].next_attempt_at < WALL + timedelta(days=1):
        clock.now = max(clock.now, data.calls["c-1"].next_attempt_at)
        await notices.deliver_due()
        tried += 1
        assert tried < 2_000, "never given up"
    assert clock.now - WALL >= timedelta(hours=1) > clock.now - WALL - 5 * SEC
    assert notices.given_up == 1 and data.calls["c-1"].delivered_at is None
    assert (data.calls["c-1"].last_error or "").startswith("given up: gateway away")
    clock.now += timedelta(days=2)
    notifier.down = False
    await notices.keep(KeepCalls((notice("c-2", "wa-2"),)))
    assert await notices.deliver_due() == 1  # the fresh call; the given-up one stays so
    assert [n.call_id for n in notifier.sent] == ["c-2"]


async def test_one_trucks_calls_are_sent_in_their_order() -> None:
    """Calls are sent in parallel, but one truck's call, recall and lost place reach the
    firm and the driver in that order, each after the one before it was taken."""
    data, clock = MemoryCallNotices(), Clock()
    order: list[str] = []
    first_sent = asyncio.Event()

    class SlowFirst(RecordingNotifier):
        async def send(self, note: Notification) -> None:
            if note.call_id == "wa-1/call-1":
                await asyncio.sleep(0)  # yield: a parallel send of its recall would overtake
                first_sent.set()
            elif note.visit_id == "wa-1":
                assert first_sent.is_set(), f"{note.call_id} before wa-1/call-1"
            order.append(note.call_id)

    notices = make(data, SlowFirst(), clock)
    kept = [notice("wa-1/call-1"), notice("wa-2/call-1", "wa-2"), notice("wa-1/call-2")]
    for one in kept:  # kept one after the other: created in this order
        await notices.keep(KeepCalls((one,)))
        clock.now += SEC
    assert await notices.deliver_due() == 3
    mine = [c for c in order if c.startswith("wa-1/")]
    assert mine == ["wa-1/call-1", "wa-1/call-2"] and "wa-2/call-1" in order


async def test_a_call_delivered_at_once_is_not_a_line_of_the_console(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`borderflow up` prints INFO: one line for every call delivered buried its progress
    lines (a stranger analyst counted 336 at the end of a short run). A call delivered at
    its first attempt is DEBUG; one delivered after a failure is still said at INFO."""
    data, notifier, clock = MemoryCallNotices(), RecordingNotifier(), Clock()
    notices = make(data, notifier, clock)
    with caplog.at_level(logging.INFO, logger="services.service_layer.call_notices"):
        await notices.keep(KeepCalls((notice("c-1"),)))
        assert await notices.deliver_due() == 1
        assert [r.getMessage() for r in caplog.records] == []
        notifier.down = True
        await notices.keep(KeepCalls((notice("c-2", "wa-2"),)))
        assert await notices.deliver_due() == 0
        notifier.down, clock.now = False, clock.now + 2 * SEC
        assert await notices.deliver_due() == 1
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert said == ["call c-2 delivered after 2 attempt(s)"]
