"""The call-forward worker live (issue 23), on the embedded broker and a real database
(SQLite, PostgreSQL): a firm books, a truck is read at the waiting area's camera, the
worker calls it (an event on the calls topic) and the driver's page from the booking
answer shows the call and its lane; another truck, not booked, waits behind it on a page
of its own; a restarted worker resumes the queue from the database and sees the called
truck reach the gate; the notifier posts each call to the firm's webhook (its settings)
and texts the driver (at the mobile given with the booking) in the language it read its
page in; a booking checked in through the
HTTP API is queued and called with no camera read."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import cast

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.model import Direction, Manifest
from lanes.policy import OrchestratedPolicy
from services.adapters.booking_outbox import BookingOutbox
from services.adapters.call_outbox import kafka_publisher
from services.adapters.sql_gate import sql_gate_stores
from services.archive.store import batches_in_range
from services.bootstrap import (
    make_call_notifier,
    make_callforward,
    make_decider,
    make_lane_event_handler,
)
from services.db.engine import session_factory
from services.db.manifests import store_manifests
from services.drivers.hub import page_token
from services.gates.loader import default_gates
from services.notify.routing import CallRouter
from services.notify.sms import FakeSmsSink
from services.replay.inputs import ManifestVersion, assemble, booking_changes, decision_line
from services.replay.sandbox import RecordingProducer, consumer_record, run_sandbox
from services.runtime.settings import KafkaSettings
from services.simulation.traffic import archived_reads
from services.workers.callforward import CallForwardWorker, Consumed
from streams.calls import decode_call
from streams.clients import ensure_topics, make_producer
from streams.events import PlateReadV1
from streams.runtime import ConsumerRuntime, Inbound
from streams.topics import LANE_EVENTS, PLATE_READS, TopicSpec
from tests.integration.harness import collect, staff_cookies_on
from tests.integration.test_bookings_api import (
    _book,
    add_firms,
    auth,
    local_slot,
    make_client,
    problem,
)
from tests.kafka_plugin import unique_name

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

MIN = timedelta(minutes=1)


def read(event_id: str, camera: str, plate: str, at: datetime) -> Inbound[PlateReadV1]:
    wire = PlateReadV1(
        event_id=event_id, camera_id=camera, captured_at=at, plate_text=plate, confidence=0.97
    )
    return Inbound("borderflow.plate-reads", 0, 0, camera.encode(), wire)


async def test_a_truck_read_at_the_waiting_area_is_called_and_its_page_shows_it(
    engine: AsyncEngine, kafka_settings: KafkaSettings, kafka_bootstrap: str
) -> None:
    keys = await add_firms(engine, ["firm-a"])
    manifests = [
        Manifest(manifest_id=m, firm_id="firm-a", direction=Direction.EXPORT, tractor_plate=p)
        for m, p in (("CF-1", "29C11111"), ("CF-2", "29C22222"))
    ]
    async with session_factory(engine)() as session, session.begin():
        await store_manifests(session=session, manifests=manifests, source="http", now=T(0))
    topic = TopicSpec(unique_name("borderflow.calls"), 1, "visit_id", "test")
    await ensure_topics(kafka_settings, kafka_bootstrap, [topic])
    producer = make_producer(kafka_settings, kafka_bootstrap)
    await producer.start()
    async with make_client(engine) as client:
        secret = client._transport.app.state.context.drivers_secret  # type: ignore[attr-defined]
        booked = (
            await client.post(
                "/v1/bookings",
                json={
                    "manifest_id": "CF-1",
                    "slot_start": local_slot(1, 10).isoformat(),
                    "driver_phone": "+8613800138000",
                },
                headers=auth(keys["firm-a"], "k-1"),
            )
        ).json()
        link = booked["driver_page"]
        assert (await client.get(f"{link}/state")).json()["status"] == "booked"

        def worker() -> CallForwardWorker:
            return make_callforward(
                sessions=session_factory(engine),
                gates=default_gates(),
                publish=kafka_publisher(producer, topic.name),
                secret=secret,
            )

        try:
            first = worker()
            await first.handle([read("r-1", "hn-exp-approach-1", "29C-111.11", T(0))])
            called = (await client.get(f"{link}/state")).json()
            assert called["status"] == "called" and called["lane_id"], called
            page = await client.get(link, headers={"Accept-Language": "zh-CN"})
            assert page.status_code == 200 and 'lang="zh"' in page.text
            # a walk-in behind it: its page by its visit (the short code at the area)
            await first.handle([read("r-2", "hn-exp-approach-1", "29C22222", T(0) + MIN)])
            walk_in = await client.get(f"/d/{page_token(secret, 'wa-r-2')}/state")
            assert walk_in.status_code == 200 and walk_in.json()["status"] in {"waiting", "called"}
            for private in ("CF-1", "29C11111", "wa-r-1", booked["booking_id"], "firm-a"):
                assert private not in walk_in.text
            # the lane controllers' view of the area (a staff session; anonymous: 401)
            assert (await client.get("/v1/waiting-area")).status_code == 401
            staff = await _staff_cookie(engine)
            area = (await client.get("/v1/waiting-area", headers=staff)).json()
            assert area["gate_id"] == "huu-nghi" and area["stepped_to"]
            trucks = {t["visit_id"]: t for t in area["trucks"]}
            assert trucks["wa-r-1"]["plate"] == "29C11111"
            assert trucks["wa-r-1"]["call"]["lane_id"] == called["lane_id"]
            assert trucks["wa-r-1"]["position"] is None  # called: out of the line
            assert set(trucks) == {"wa-r-1", "wa-r-2"}
            # the walk-in's driver has no link: the area's staff give the short code, which
            # opens its page (and only its own)
            code = trucks["wa-r-2"]["short_code"]
            assert len(code) == 8 and code != trucks["wa-r-1"]["short_code"]
            opened = await client.get(f"/d/c/{code.lower()}", follow_redirects=False)
            assert opened.status_code == 303
            assert opened.headers["location"] == f"/d/{page_token(secret, 'wa-r-2')}"
            # a page made before the codes lost their vowels (2026-12-06) keeps the code it
            # was given, and the area's view says that one, not the code made today
            async with engine.begin() as conn:
                await conn.execute(
                    text("UPDATE driver_pages SET code = 'AEDW2345' WHERE page_key = 'wa-r-2'")
                )
            area = (await client.get("/v1/waiting-area", headers=staff)).json()
            given = {t["visit_id"]: t["short_code"] for t in area["trucks"]}
            assert given["wa-r-2"] == "AEDW2345"
            opened = await client.get("/d/c/aedw2345", follow_redirects=False)
            assert opened.headers["location"] == f"/d/{page_token(secret, 'wa-r-2')}"

            second = worker()  # a restart: the queue comes back from the database
            at_gate = read("r-3", "hn-exp-gate-1", "29C11111", T(0) + 5 * MIN)
            await second.handle([at_gate])
            reached = (await client.get(f"{link}/state")).json()
            assert (reached["status"], reached["zone"]) == ("at_gate", "UTC+07:00")
            assert reached["reached_at"].endswith("+07:00")
            assert second.stats.at_gate == 1
            # the gate's decider takes the same read after call-forward did: it sends the
            # truck to the lane it was called to, and records the call it was told of
            await _decided_as_called(engine, at_gate.event, called["lane_id"], manifests)
        finally:
            await producer.stop()
    records = await collect(kafka_bootstrap, topic.name, expect=2, timeout=60)
    events = [(r.key.decode(), decode_call(r.value).type) for r in records]
    assert events[0] == ("wa-r-1", "truck.called")
    assert all(e[1] == "truck.called" for e in events)

    # the notifier: the firm's webhook (its settings) and the driver's SMS, in zh (the
    # language the booked driver read the page in), the walk-in's in English
    posted: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(204)

    async with make_client(engine) as api:
        url = "https://firm-a.example/calls"
        put = await api.put(
            "/v1/firm/settings", json={"webhook_url": url}, headers=auth(keys["firm-a"])
        )
        assert put.status_code == 200, put.text
        bad = await api.put(
            "/v1/firm/settings", json={"webhook_url": "ftp://x"}, headers=auth(keys["firm-a"])
        )
        assert bad.status_code == 422 and "webhook_url" in bad.text
        # the server POSTs there: never at the gate's own network
        for inside in ("http://127.0.0.1:8765/hook", "http://localhost/x", "http://10.1.2.3/",
                       "http://[::1]/", "http://169.254.169.254/latest"):  # fmt: skip
            refused = await api.put(
                "/v1/firm/settings", json={"webhook_url": inside}, headers=auth(keys["firm-a"])
            )
            assert refused.status_code == 422 and "webhook_url" in refused.text, inside
    sink = FakeSmsSink()
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        router = CallRouter(
            sessions=session_factory(engine),
            client=client,
            sms=sink,
            phone_of=lambda v: v,
            resolve=_firm_a_dns,
        )
        notifier = make_call_notifier(
            sessions=session_factory(engine),
            notifier=router,
            utc_offsets={"huu-nghi": 7 * 60 * MIN},
        )
        calls = [decode_call(r.value) for r in records]
        await notifier.handle([Inbound(topic.name, 0, n, None, c) for n, c in enumerate(calls)])
    texts = {sms.to: sms.text for sms in sink.sent}

    # the booked driver's mobile, given with the booking; the walk-in's stand-in (`phone_of`)
    assert set(texts) == {"+8613800138000", "wa-r-2"}
    assert "请立即前往口岸" in texts["+8613800138000"]
    assert texts["wa-r-2"].startswith("borderflow: Go to the gate now")
    deadline = calls[1].deadline + 7 * 60 * MIN  # the gate's local time (+07:00), named
    # and how to open its page: the code stored with it (the one the area's view shows)
    assert texts["wa-r-2"].endswith(
        f"Be there by {deadline:%H:%M} (UTC+07:00). Your page: code AEDW2345 at /d"
    )
    assert texts["+8613800138000"].endswith(f"查看页面：/d 输入码{given['wa-r-1']}")
    # each call once (two trucks' calls are sent at once, in no given order)
    assert sorted(r.headers["Idempotency-Key"] for r in posted) == sorted(
        [calls[0].call_id, calls[1].call_id]
    )
    # to the address the name resolved to (checked public), under the firm's name
    assert {(str(r.url), r.headers["Host"]) for r in posted} == {
        ("https://93.184.215.14/calls", "firm-a.example")
    }


async def _firm_a_dns(host: str, port: int) -> list[str]:
    assert (host, port) == ("firm-a.example", 443)
    return ["93.184.215.14"]


async def _decided_as_called(
    engine: AsyncEngine, wire: PlateReadV1, lane_id: str, manifests: list[Manifest]
) -> None:
    """The gate's decider (its own process live; here on the same database) decides the
    read: the truck goes to `lane_id`, the lane of its call; the batch's record holds the
    call, and the replay of that recording decides the same, byte for byte."""
    gates = default_gates()
    producer = RecordingProducer()
    decider = make_decider(
        stores=sql_gate_stores(session_factory(engine)),
        producer=cast(AIOKafkaProducer, producer),
        gates=gates,
        policy=OrchestratedPolicy(),
    )
    (record,) = archived_reads([wire])
    await decider.handle(
        [Inbound(PLATE_READS.name, 0, 0, None, decider.decode(consumer_record(record)))]
    )
    (decision,) = producer.decisions()
    assert (decision["manifest_id"], decision["lane_id"]) == ("CF-1", lane_id)
    assert decision["reason"].startswith("called at ")
    async with session_factory(engine)() as session:
        batches = await batches_in_range(
            session=session, start=wire.captured_at, end=wire.captured_at + MIN
        )
        bookings = await booking_changes(session=session)
    # the manifests as stored (the test's have no window: not a wire form the loader reads)
    versions = [ManifestVersion(m, "http", T(0), n) for n, m in enumerate(manifests, start=1)]
    (batch,) = batches
    assert batch.calls is not None and batch.calls["huu-nghi"][0]["lane_id"] == lane_id
    inputs = replace(assemble([record], batches, versions), bookings=tuple(bookings))
    replayed = await run_sandbox(inputs, gates=gates, policy=OrchestratedPolicy())
    got, want = [decision_line(d) for d in replayed.decisions], [decision_line(decision)]
    assert got == want, "\n".join(got + want)


async def _staff_cookie(engine: AsyncEngine) -> dict[str, str]:
    """A viewer's control-room session cookie, as a header: what the gate-wide views need."""
    cookies = await staff_cookies_on(session_factory(engine), "viewer-cf")
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


def _runtime(
    worker: CallForwardWorker,
    topics: list[str],
    settings: KafkaSettings,
    bootstrap: str,
    producer: AIOKafkaProducer,
) -> ConsumerRuntime[Consumed]:
    """The worker as it runs: the consumer runtime on `topics`, in a group of its own."""
    return ConsumerRuntime(
        settings=settings,
        bootstrap=bootstrap,
        topics=topics,
        group_id=unique_name("callforward"),
        decode=worker.decode,
        handle=worker.handle,
        producer=producer,
    )


def _on_topic(
    engine: AsyncEngine,
    producer: AIOKafkaProducer,
    calls: str,
    lane_events_topic: str = LANE_EVENTS.name,
) -> CallForwardWorker:
    """The worker on the database, publishing its calls to the topic `calls`."""
    return make_callforward(
        sessions=session_factory(engine),
        gates=default_gates(),
        publish=kafka_publisher(producer, calls),
        secret=b"runtime test",
        lane_events_topic=lane_events_topic,
    )


def T(minutes: int) -> datetime:
    """Event time: tomorrow 10:00 at the gate (+07:00), in the lanes' opening hours."""
    return local_slot(1, 10) + minutes * MIN


async def _walk_in(engine: AsyncEngine, *plates: str) -> None:
    """Firm W's manifest W-1, an import truck 20C33333 with no booking (a walk-in), and
    W-2, W-3... for the `plates` after it."""
    await add_firms(engine, ["firm-w"])
    walk_ins = [
        Manifest(
            manifest_id=f"W-{n}", firm_id="firm-w", direction=Direction.IMPORT, tractor_plate=p
        )
        for n, p in enumerate(("20C33333", *plates), start=1)
    ]
    async with session_factory(engine)() as session, session.begin():
        await store_manifests(session=session, manifests=walk_ins, source="http", now=T(0))


async def test_through_the_reads_topic_a_read_at_the_area_camera_gets_a_call(
    engine: AsyncEngine, kafka_settings: KafkaSettings, kafka_bootstrap: str
) -> None:
    """The worker as it runs (the consumer runtime on a plate-reads topic): a read at the
    waiting area's camera, sent as a third-party client sends it (bare JSON) and misread
    (one digit: the decider's matcher still names the truck); a call event follows on the
    calls topic, and the truck's page (by its visit: a walk-in) shows the call."""
    await _walk_in(engine)
    reads = TopicSpec(unique_name("borderflow.plate-reads"), 1, "camera_id", "test")
    calls = TopicSpec(unique_name("borderflow.calls"), 1, "visit_id", "test")
    await ensure_topics(kafka_settings, kafka_bootstrap, [reads, reads.dlq, calls])
    producer = make_producer(kafka_settings, kafka_bootstrap)
    await producer.start()
    secret = b"runtime test"
    worker = make_callforward(
        sessions=session_factory(engine),
        gates=default_gates(),
        publish=kafka_publisher(producer, calls.name),
        secret=secret,
    )
    runtime = _runtime(worker, [reads.name], kafka_settings, kafka_bootstrap, producer)
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    try:
        bare = {
            "event_id": "rt-1",
            "camera_id": "hn-imp-approach-1",
            "captured_at": T(0).isoformat(),
            "plate_text": "20C-333.83",
            "confidence": 0.9,
        }
        value = json.dumps(bare).encode()
        # sent by a camera whose clock says T(0) (a read far ahead of its record's time is
        # skipped, as the decider dead-letters it)
        sent_ms = int(T(0).timestamp() * 1000)
        await producer.send_and_wait(
            reads.name, value=value, key=b"hn-imp-approach-1", timestamp_ms=sent_ms
        )
        # malformed: skipped here, dead-lettered once, by the decider (its owner)
        await producer.send_and_wait(reads.name, value=b"{not json", key=b"x")
        records = await collect(kafka_bootstrap, calls.name, expect=1, timeout=60)
        async with asyncio.timeout(60):
            while worker.malformed < 1:  # consumed (not timing: waits for the count)
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
        await producer.stop()
    call = decode_call(records[0].value)
    assert (call.type, call.visit_id) == ("truck.called", "wa-rt-1") and call.lane_id
    async with make_client(engine) as client:
        page = (await client.get(f"/d/{page_token(secret, 'wa-rt-1')}/state")).json()
    assert page["status"] == "called" and page["lane_id"] == call.lane_id
    assert worker.malformed == 1 and runtime.stats.dead_lettered == 0


async def test_a_booking_checked_in_through_the_api_is_queued_and_called(
    engine: AsyncEngine, kafka_settings: KafkaSettings, kafka_bootstrap: str
) -> None:
    """Issue 23: "checked in with its booking". The firm checks its truck in through the
    HTTP API; the booking outbox sends `booking.checked_in` (enveloped) on the bookings
    topic; the worker, as it runs (the consumer runtime on the plate-reads, bookings and
    lane-events topics), queues the truck and calls it, with no camera read at all; a lane
    event past the call's deadline recalls it; the driver's page from the booking answer
    follows. Another firm's check-in reads as missing, a cancelled booking's is refused."""
    keys = await add_firms(engine, ["firm-c", "firm-d"])
    truck = Manifest(
        manifest_id="CK-1", firm_id="firm-c", direction=Direction.EXPORT, tractor_plate="29C44444"
    )
    async with session_factory(engine)() as session, session.begin():
        await store_manifests(session=session, manifests=[truck], source="http", now=T(0))
    reads = TopicSpec(unique_name("borderflow.plate-reads"), 1, "camera_id", "test")
    bookings = TopicSpec(unique_name("borderflow.bookings"), 1, "booking_id", "test")
    lanes = TopicSpec(unique_name("borderflow.lane-events"), 1, "gate_id", "test")
    calls = TopicSpec(unique_name("borderflow.calls"), 1, "visit_id", "test")
    topics = [reads, reads.dlq, bookings, bookings.dlq, lanes, lanes.dlq, calls]
    await ensure_topics(kafka_settings, kafka_bootstrap, topics)
    producer = make_producer(kafka_settings, kafka_bootstrap)
    await producer.start()
    outbox = BookingOutbox(
        sessions=session_factory(engine), producer=lambda: producer, topic=bookings.name
    )
    try:
        async with make_client(engine) as client:
            secret = client._transport.app.state.context.drivers_secret  # type: ignore[attr-defined]
            booked = (await _book(client, keys["firm-c"], "CK-1", local_slot(1, 10), "k-c")).json()
            path = f"/v1/bookings/{booked['booking_id']}/check-in"
            checked = await client.post(path, headers=auth(keys["firm-c"]))
            assert checked.status_code == 200, checked.text
            assert checked.json()["version"] == booked["version"] == 1  # the booking unchanged
            assert problem(await client.post(path, headers=auth(keys["firm-d"])), 404)
            worker = make_callforward(
                sessions=session_factory(engine),
                gates=default_gates(),
                publish=kafka_publisher(producer, calls.name),
                secret=secret,
                bookings_topic=bookings.name,
                lane_events_topic=lanes.name,
            )
            three = [reads.name, bookings.name, lanes.name]
            runtime = _runtime(worker, three, kafka_settings, kafka_bootstrap, producer)
            stop = asyncio.Event()
            task = asyncio.create_task(runtime.run(stop))
            try:
                assert await outbox.drain() == 2  # booking.created, booking.checked_in
                records = await collect(kafka_bootstrap, calls.name, expect=1, timeout=60)
                call = decode_call(records[0].value)
                # no plate read comes: a lane event past the call's deadline (bare JSON, as a
                # lane controller's system sends it) steps the queue, and the truck is recalled
                lane_event = {
                    "event_id": "le-1",
                    "gate_id": "huu-nghi",
                    "kind": "lane_opened",
                    "lane_id": "HN-E1",
                    "at": (call.deadline + MIN).isoformat(),
                }
                value = json.dumps(lane_event).encode()
                sent_ms = int((call.deadline + MIN).timestamp() * 1000)  # the sender's clock
                await producer.send_and_wait(
                    lanes.name, value=value, key=b"huu-nghi", timestamp_ms=sent_ms
                )
                records = await collect(kafka_bootstrap, calls.name, expect=2, timeout=60)
            finally:
                stop.set()
                await task
            assert [decode_call(r.value).type for r in records] == [
                "truck.called",
                "truck.recalled",
            ]
            assert call.type == "truck.called" and call.lane_id and call.manifest_id == "CK-1"
            page = (await client.get(f"{booked['driver_page']}/state")).json()
            assert page["status"] == "recalled" and page["lane_id"] == call.lane_id, page
            stats = worker.stats
            assert (stats.check_ins, stats.entered, stats.reads, stats.gate_times) == (1, 1, 0, 1)

            cancelled = await client.post(
                f"/v1/bookings/{booked['booking_id']}/cancel", headers=auth(keys["firm-c"])
            )
            assert cancelled.status_code == 200, cancelled.text
            refused = problem(await client.post(path, headers=auth(keys["firm-c"])), 409)
            assert "only an active booking can be checked in" in refused["detail"]
    finally:
        await producer.stop()


async def test_a_lane_event_ahead_of_its_record_steps_the_queue_as_it_changes_the_board(
    engine: AsyncEngine, kafka_settings: KafkaSettings, kafka_bootstrap: str
) -> None:
    """Both readers of the lane events as they run, on one topic: a third-party client (a
    bare aiokafka producer, the record stamped by its wall clock) sends a lane event whose
    `at` is tomorrow, 20 minutes after a truck was called (its deadline: +15). The
    lane-event worker applies it to the board, and call-forward steps its queue to it: the
    truck is recalled. Before, call-forward skipped it as clock-skew (more than 5 minutes
    ahead of its record) while the board took it: no recall until the next plate read."""
    await _walk_in(engine)
    reads = TopicSpec(unique_name("borderflow.plate-reads"), 1, "camera_id", "test")
    lanes = TopicSpec(unique_name("borderflow.lane-events"), 1, "gate_id", "test")
    calls = TopicSpec(unique_name("borderflow.calls"), 1, "visit_id", "test")
    await ensure_topics(kafka_settings, kafka_bootstrap, [reads, lanes, lanes.dlq, calls])
    producer = make_producer(kafka_settings, kafka_bootstrap)
    await producer.start()
    worker = _on_topic(engine, producer, calls.name, lane_events_topic=lanes.name)
    board = make_lane_event_handler(
        stores=sql_gate_stores(session_factory(engine)),
        producer=producer,
        gates=default_gates(),
        policy=OrchestratedPolicy(),
        group_id=unique_name("lane-events"),
    )
    runtimes = [
        _runtime(worker, [reads.name, lanes.name], kafka_settings, kafka_bootstrap, producer),
        ConsumerRuntime(
            settings=kafka_settings,
            bootstrap=kafka_bootstrap,
            topics=[lanes.name],
            group_id=board.group_id,
            decode=board.decode,
            handle=board.handle,
            producer=producer,
        ),
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in runtimes]
    client = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await client.start()
    try:
        at_area = {
            "event_id": "rt-1",
            "camera_id": "hn-imp-approach-1",
            "captured_at": T(0).isoformat(),
            "plate_text": "20C33333",
            "confidence": 0.9,
        }
        await client.send_and_wait(
            reads.name,
            value=json.dumps(at_area).encode(),
            key=b"hn-imp-approach-1",
            timestamp_ms=int(T(0).timestamp() * 1000),
        )
        await collect(kafka_bootstrap, calls.name, expect=1, timeout=60)
        opened = {
            "event_id": "le-ahead",
            "gate_id": "huu-nghi",
            "kind": "lane_opened",
            "lane_id": "HN-I1",
            "at": T(20).isoformat(),
        }
        # the record's timestamp: the client's wall clock, today (its `at` is tomorrow)
        await client.send_and_wait(lanes.name, value=json.dumps(opened).encode(), key=b"huu-nghi")
        records = await collect(kafka_bootstrap, calls.name, expect=2, timeout=60)
        async with asyncio.timeout(60):
            while board.stats.events["lane_opened"] < 1:  # applied (waits for the count)
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await client.stop()
        await producer.stop()
    assert [decode_call(r.value).type for r in records] == ["truck.called", "truck.recalled"]
    assert worker.out_of_clock == 0 and runtimes[1].stats.dead_lettered == 0


async def test_a_truck_read_at_the_gate_before_its_first_area_read_is_not_called(
    engine: AsyncEngine, kafka_settings: KafkaSettings, kafka_bootstrap: str
) -> None:
    """Reads as the cameras send them (bare JSON on the reads topic), in any order: W-1's
    truck, never queued, is read at the gate at 10:05 and then at the area's camera at 10:07
    (read as it drove past, or the camera's clock off); W-2's at the gate at 10:06, its area
    read of 10:03 delivered after it, in a later batch (the area camera's partition behind).
    Neither is queued nor called (before: W-1's and W-2's trucks both called, at the gate
    already); W-3's truck, read at the area at 10:20, is, and its call is the first on the
    topic."""
    await _walk_in(engine, "20C44444", "20C55555")
    reads = TopicSpec(unique_name("borderflow.plate-reads"), 1, "camera_id", "test")
    calls = TopicSpec(unique_name("borderflow.calls"), 1, "visit_id", "test")
    await ensure_topics(kafka_settings, kafka_bootstrap, [reads, reads.dlq, calls])
    producer = make_producer(kafka_settings, kafka_bootstrap)
    await producer.start()
    worker = _on_topic(engine, producer, calls.name)
    runtime = _runtime(worker, [reads.name], kafka_settings, kafka_bootstrap, producer)

    async def send(event_id: str, camera: str, plate: str, at: datetime) -> None:
        bare = {
            "event_id": event_id,
            "camera_id": camera,
            "captured_at": at.isoformat(),
            "plate_text": plate,
            "confidence": 0.95,
        }
        await producer.send_and_wait(
            reads.name,
            value=json.dumps(bare).encode(),
            key=camera.encode(),
            timestamp_ms=int(at.timestamp() * 1000),
        )

    async def handled(count: int) -> None:
        async with asyncio.timeout(60):
            while worker.stats.reads < count:  # consumed (not timing: waits for the count)
                await asyncio.sleep(0.05)

    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    try:
        await send("g-1", "hn-imp-gate-1", "20C33333", T(5))
        await send("a-1", "hn-imp-approach-1", "20C33333", T(7))
        await send("g-2", "hn-imp-gate-1", "20C44444", T(6))
        await handled(3)
        await send("a-2", "hn-imp-approach-1", "20C44444", T(3))
        await handled(4)
        await send("a-3", "hn-imp-approach-1", "20C55555", T(20))
        records = await collect(kafka_bootstrap, calls.name, expect=1, timeout=60)
    finally:
        stop.set()
        await task
        await producer.stop()
    assert [decode_call(r.value).visit_id for r in records] == ["wa-a-3"]
