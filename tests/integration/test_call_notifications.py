"""Calls forward are events and are notified once (issue 23): the policy's calls go to
`borderflow.calls` on the embedded broker; the call notifier stores them in a real database
(SQLite and PostgreSQL), keeps retrying while the SMS gateway is down, and once it is up
every call is delivered exactly once, even when a call is published twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.board import Board, Truck
from lanes.model import BookingStatus, CargoClass, CustomsChannel, Direction
from lanes.policy.callforward import AreaQueue, CallForwardPolicy, TruckCalled
from services.bootstrap import make_call_notifier
from services.db.call_tables import CallNotificationRow
from services.db.driver_tables import DriverPageRow
from services.db.engine import session_factory
from services.drivers.store import save_pages
from services.gates.loader import get_gate
from services.notify.routing import CallRouter
from services.notify.sms import FakeSmsSink, SmsNotifier
from services.ports.calls import CallNotice
from services.runtime.settings import KafkaSettings
from services.service_layer.call_notices import GIVEN_UP, KeepCalls, Retries
from streams.calls import CallEventV1, call_to_wire, decode_call, encode_call
from streams.clients import ensure_topics, make_producer
from streams.errors import InvalidEvent
from streams.runtime import ConsumerRuntime
from streams.topics import TopicSpec
from tests.integration.harness import collect, wait_until
from tests.kafka_plugin import unique_name

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

HN = get_gate("huu-nghi")
T0 = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def calls_of_a_morning(n: int) -> list[TruckCalled]:
    """What the policy calls when `n` trucks wait and every lane is idle."""
    area = HN.waiting_area(Direction.EXPORT)
    assert area is not None
    queue = AreaQueue()
    for i in range(n):
        truck = Truck(
            visit_id=f"v-{i}",
            direction=Direction.EXPORT,
            arrived_at=T0 + timedelta(seconds=i),
            channel=CustomsChannel.GREEN,
            cargo=frozenset({CargoClass.GENERAL}),
            containers=0,
            booking=BookingStatus.WALK_IN,
        )
        queue = queue.entered(truck, area, truck.arrived_at)
    events, _, _ = CallForwardPolicy().step(queue, Board.for_gate(HN), HN, now=T0 + MINUTE)
    return [e for e in events if isinstance(e, TruckCalled)]


async def test_each_call_is_an_event_and_is_sent_once_after_the_gateway_comes_back(
    engine: AsyncEngine, kafka_settings: KafkaSettings, kafka_bootstrap: str
) -> None:
    calls = calls_of_a_morning(4)
    assert len(calls) == 4
    topic = TopicSpec(unique_name("borderflow.calls"), 1, "visit_id", "test")
    await ensure_topics(kafka_settings, kafka_bootstrap, [topic, topic.dlq])
    producer = make_producer(kafka_settings, kafka_bootstrap)
    await producer.start()
    try:
        for call in [*calls, calls[0]]:  # the first published twice (a producer retry)
            value, headers = encode_call(call_to_wire(call))
            await producer.send_and_wait(
                topic.name, value=value, key=call.visit_id.encode(), headers=headers
            )
    finally:
        await producer.stop()

    sink = FakeSmsSink(down=True)
    sessions = session_factory(engine)
    worker = make_call_notifier(
        sessions=sessions,
        notifier=SmsNotifier(sink, phone_of=lambda visit_id: f"+84-900-{visit_id}"),
        retries=Retries(
            first=timedelta(seconds=0.05),
            longest=timedelta(seconds=0.2),
            lease=timedelta(seconds=5),
        ),
    )
    dlq_producer = make_producer(kafka_settings, kafka_bootstrap)
    await dlq_producer.start()
    runtime = ConsumerRuntime(
        settings=kafka_settings,
        bootstrap=kafka_bootstrap,
        topics=[topic.name],
        group_id=unique_name("call-notifier"),
        decode=lambda record: decode_call(record.value),
        handle=worker.handle,
        producer=dlq_producer,
        on_idle=worker.deliver_due,
    )
    stop = asyncio.Event()
    tasks = [asyncio.create_task(runtime.run(stop)), asyncio.create_task(worker.run(stop))]
    try:

        async def rows() -> list[CallNotificationRow]:
            async with sessions() as session:
                return list(await session.scalars(select(CallNotificationRow)))

        async def retried_while_down() -> bool:
            found = await rows()
            return len(found) == 4 and all(r.attempts >= 3 for r in found)

        await wait_until(retried_while_down, timeout=60)
        assert sink.sent == [] and sink.refused >= 12
        assert all(r.delivered_at is None and r.last_error for r in await rows())

        sink.down = False

        async def all_delivered() -> bool:
            return all(r.delivered_at is not None for r in await rows())

        await wait_until(all_delivered, timeout=60)
        # more rounds of the delivery loop, and the duplicate consumed: nothing more is sent
        await worker.deliver_due()
        await asyncio.sleep(0.3)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await dlq_producer.stop()
    sent = Counter(sms.key for sms in sink.sent)
    assert sent == Counter({c.call_id: 1 for c in calls})
    assert all(sms.to.startswith("+84-900-v-") for sms in sink.sent)
    assert all("Go to the gate now" in sms.text for sms in sink.sent)
    records = await collect(kafka_bootstrap, topic.name, expect=5, timeout=10)
    assert sorted({decode_call(r.value).call_id for r in records}) == sorted(
        c.call_id for c in calls
    )


async def test_a_malformed_call_event_is_refused_with_the_field() -> None:
    with pytest.raises(InvalidEvent, match="visit_id"):
        decode_call(b'{"version": 1, "data": {"call_id": "x"}}')
    with pytest.raises(InvalidEvent, match="invalid JSON: Expecting"):
        decode_call(b"{")


def call_notice_of(wire: CallEventV1) -> CallNotice:
    payload = wire.model_dump(mode="json")
    return CallNotice(wire.call_id, wire.visit_id, wire.gate_id, wire.type, payload)


async def test_a_call_given_up_is_kept_so_and_not_tried_again(engine: AsyncEngine) -> None:
    """On the database: a call not taken by the time it is given up keeps its attempts
    and error, and its next attempt is never (GIVEN_UP, a date the column holds); the
    calls kept after it are still delivered."""
    sessions = session_factory(engine)
    sink = FakeSmsSink(down=True)
    worker = make_call_notifier(
        sessions=sessions,
        notifier=SmsNotifier(sink, phone_of=lambda visit_id: f"+84-900-{visit_id}"),
        retries=Retries(give_up=timedelta(0)),  # the first refusal gives it up
    )
    first, second = calls_of_a_morning(2)
    notice = call_notice_of(call_to_wire(first))
    await worker.notices.keep(KeepCalls((notice,)))
    assert await worker.deliver_due() == 0
    async with sessions() as session:
        row = await session.get(CallNotificationRow, first.call_id)
    assert row is not None and row.delivered_at is None and row.attempts == 1
    assert row.next_attempt_at == GIVEN_UP and (row.last_error or "").startswith("given up")
    sink.down = False
    await worker.notices.keep(KeepCalls((call_notice_of(call_to_wire(second)),)))
    assert await worker.deliver_due() == 1
    assert [sms.key for sms in sink.sent] == [second.call_id]


async def test_a_driver_who_never_opened_the_page_is_texted_in_the_language_of_their_mobile(
    engine: AsyncEngine,
) -> None:
    """The SMS is in the language the driver last read the page in; before, a driver who
    had not opened it yet (the call's SMS is often the first they hear) was texted in
    English, a Vietnamese driver at +84 and a Chinese one at +86 alike. Now, the page never
    read, the text is in the language of the country of the mobile given with the booking;
    a page read still decides (a driver at +84 who reads it in Chinese is texted in
    Chinese); a number of no country known (a stand-in) still gets English."""
    sessions = session_factory(engine)
    calls = calls_of_a_morning(4)
    pages = {
        "v-0": ("+84912345678", None),
        "v-1": ("+8613800138000", None),
        "v-2": ("+84912345679", "zh"),
        "v-3": ("fake:v-3", None),
    }
    async with sessions() as session, session.begin():
        await save_pages(
            session=session,
            secret=b"s",
            states={f"booking:{v}": {"status": "booked"} for v in pages},
            now=T0,
            visits={f"booking:{v}": v for v in pages},
        )
        for visit_id, (phone, language) in pages.items():
            await session.execute(
                update(DriverPageRow)
                .where(DriverPageRow.visit_id == visit_id)
                .values(phone=phone, language=language)
            )
    sink = FakeSmsSink()
    worker = make_call_notifier(
        sessions=sessions, notifier=SmsNotifier(sink, phone_of=lambda visit_id: visit_id)
    )
    await worker.notices.keep(KeepCalls(tuple(call_notice_of(call_to_wire(c)) for c in calls)))
    assert await worker.deliver_due() == 4
    texts = {sms.to: sms.text for sms in sink.sent}
    assert texts["v-0"].startswith("borderflow: Đến làn"), texts  # with its page's code
    assert texts["v-1"].startswith("borderflow：请立即前往口岸"), texts
    assert texts["v-2"].startswith("borderflow：请立即前往口岸"), texts
    assert texts["v-3"].startswith("borderflow: Go to the gate now"), texts


async def _public(host: str, port: int) -> list[str]:
    """The firm's name as DNS would answer it (no network in the tests): a public address."""
    assert (host, port) == ("firm.example", 443)
    return ["93.184.215.14"]


class _Firm(CallRouter):
    """The router with a firm's webhook and the driver's mobile given."""

    async def webhook_of(self, manifest_id: str | None) -> str | None:
        return "https://firm.example/calls"

    async def phone(self, visit_id: str) -> str | None:
        return "+84912345678"


async def test_a_notifier_restarted_between_the_sms_and_the_webhook_texts_the_driver_once(
    engine: AsyncEngine,
) -> None:
    """The firm's webhook refuses a call the driver's SMS took; the notifier restarts; the
    webhook takes the retry. Before, the channels that took a call were remembered in the
    notifier's memory only, and the restarted one sent the driver the SMS again (a real
    SMS gateway does not drop a repeat by the idempotency key). They are now kept with the
    call (`call_notifications.sent`)."""
    sessions = session_factory(engine)
    (call,) = calls_of_a_morning(1)
    firm_up = False
    posted: list[str] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        posted.append(request.headers["Idempotency-Key"])
        return httpx.Response(204 if firm_up else 500)

    sink = FakeSmsSink()
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        for run in range(2):  # the notifier, then the same restarted (a new process's state)
            worker = make_call_notifier(
                sessions=sessions,
                notifier=_Firm(sessions=sessions, client=client, sms=sink, resolve=_public),
                retries=Retries(first=timedelta(0)),
            )
            if run == 0:
                await worker.notices.keep(KeepCalls((call_notice_of(call_to_wire(call)),)))
                assert await worker.deliver_due() == 0  # the webhook refused it
                assert [sms.key for sms in sink.sent] == [call.call_id]
                firm_up = True
            else:
                assert await worker.deliver_due() == 1
    assert posted == [call.call_id] * 2
    assert [sms.key for sms in sink.sent] == [call.call_id]  # once, across the restart
    async with sessions() as session:
        row = await session.get(CallNotificationRow, call.call_id)
    assert row is not None and row.delivered_at is not None and row.sent == "sms"


async def test_each_call_is_texted_its_own_trucks_code_and_link(engine: AsyncEngine) -> None:
    """On the database: the SMS of a call carries the code of the page that follows that
    truck (`driver_pages.visit_id`), as the link under the public URL, and never another
    truck's; a truck no page follows (a walk-in not written yet) is texted as before.
    Before, no SMS said how to open the page."""
    sessions = session_factory(engine)
    calls = calls_of_a_morning(3)
    followed = {"v-0": "booking:b-0", "v-1": "v-1"}  # a booked truck's page, a walk-in's
    async with sessions() as session, session.begin():
        await save_pages(
            session=session,
            secret=b"s",
            states={key: {"status": "waiting"} for key in followed.values()},
            now=T0,
            visits={key: visit for visit, key in followed.items()},
        )
        await session.execute(
            update(DriverPageRow).where(DriverPageRow.visit_id == "v-0").values(language="vi")
        )
        codes = {
            row.visit_id: row.code
            for row in await session.scalars(select(DriverPageRow))
            if row.visit_id is not None
        }
    assert set(codes) == {"v-0", "v-1"} and len(set(codes.values())) == 2
    sink = FakeSmsSink()
    worker = make_call_notifier(
        sessions=sessions,
        notifier=SmsNotifier(sink, phone_of=lambda visit_id: visit_id),
        utc_offsets={"huu-nghi": HN.utc_offset},
        public_url="https://border.example/gate",
    )
    await worker.notices.keep(KeepCalls(tuple(call_notice_of(call_to_wire(c)) for c in calls)))
    assert await worker.deliver_due() == 3
    texts = {sms.to: sms.text for sms in sink.sent}
    for visit, code in codes.items():
        assert texts[visit].endswith(f" https://border.example/gate/d/c/{code}"), texts
        assert all(other not in texts[visit] for other in codes.values() if other != code)
    assert texts["v-0"].startswith("borderflow: Đến làn"), texts
    assert "/d" not in texts["v-2"] and texts["v-2"].startswith("borderflow: Go to the gate now")


async def test_a_call_taken_before_its_page_is_linked_is_texted_once_the_page_is(
    engine: AsyncEngine,
) -> None:
    """The call-forward worker publishes a call as it decides it and links the truck's page
    (the booking's, with the driver's mobile) to the visit when its batch commits. A
    notifier that took the call in between found no mobile and marked the call delivered:
    the driver was never texted. Now the SMS is tried again until the page follows the
    truck, and then sent once."""
    sessions = session_factory(engine)
    call = calls_of_a_morning(1)[0]
    async with sessions() as session, session.begin():  # booked: no visit yet
        await save_pages(
            session=session, secret=b"s", states={"booking:b-0": {"status": "booked"}}, now=T0
        )
        await session.execute(
            update(DriverPageRow)
            .where(DriverPageRow.page_key == "booking:b-0")
            .values(phone="+84912345678")
        )
    sink = FakeSmsSink()
    client = httpx.AsyncClient()  # no firm's webhook: the SMS alone
    worker = make_call_notifier(
        sessions=sessions,
        notifier=CallRouter(sessions=sessions, client=client, sms=sink),
        retries=Retries(first=timedelta(0)),  # tried again at once
    )
    await worker.notices.keep(KeepCalls((call_notice_of(call_to_wire(call)),)))
    assert await worker.deliver_due() == 0  # the page not linked yet: tried again
    assert sink.sent == []
    async with sessions() as session, session.begin():  # the worker's batch commits
        await save_pages(
            session=session,
            secret=b"s",
            states={"booking:b-0": {"status": "waiting"}},
            now=T0,
            visits={"booking:b-0": call.visit_id},
        )
    assert await worker.deliver_due() == 1
    assert await worker.deliver_due() == 0
    await client.aclose()
    assert [s.to for s in sink.sent] == ["+84912345678"]
