"""The composition root: builds the infrastructure (broker, database, topics, producer) and
the workers from the settings. Tests and benchmarks use the same functions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from aiokafka import AIOKafkaProducer
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lanes.matching import Matcher, OcrMatcher
from lanes.model import Gate
from lanes.policy import OrchestratedPolicy, Policy
from lanes.similarity import KEY_SCHEME
from services.adapters.call_outbox import CallOutbox, Publish, kafka_publisher
from services.adapters.decision_outbox import DecisionOutbox
from services.adapters.manifest_intake import sql_manifest_stores
from services.adapters.sql_call_notices import sql_call_notice_stores
from services.adapters.sql_callforward import sql_callforward_stores
from services.adapters.sql_gate import sql_control_stores, sql_gate_stores
from services.adapters.sql_weighings import sql_weighing_stores
from services.alerts.outbox import AlertOutbox
from services.archive.records import ArchivedRecord
from services.archive.worker import Archiver, archived_topics
from services.control.state import PRODUCER_NAME as CONTROL_ROOM
from services.db import repository as repo
from services.db.engine import create_engine, reach_database, session_factory
from services.db.manifests import rebuild_plate_keys
from services.db.migrate import migrate
from services.drivers.desk import desk_maker
from services.drivers.store import drivers_secret
from services.gates.loader import configured_gates, require_default_gate
from services.notify.port import Notifier
from services.notify.routing import CallRouter
from services.notify.sms import STAND_IN, LoggingSmsSink
from services.ports import GateStores
from services.runtime.setting_errors import SettingError
from services.runtime.settings import DatabaseSettings, Settings
from services.service_layer.call_notices import CallNotices, Retries
from services.service_layer.callforward import StepWaitingAreasHandler
from services.service_layer.control import (
    ApplyActionHandler,
    ChangeAlertStatusHandler,
    ControlRoomHandlers,
)
from services.service_layer.deciding import DecideReadsHandler
from services.service_layer.lane_events import ApplyLaneEventsHandler
from services.service_layer.manifests import FileManifestsHandler
from services.service_layer.weighings import RecordWeighingsHandler
from services.workers import decider as decider_worker
from services.workers import orchestrator
from services.workers.call_notifier import CallNotifier
from services.workers.callforward import CallForwardWorker, Consumed
from services.workers.decider import ClockWindow, Decider, GateRead
from services.workers.manifests import ManifestIntake
from services.workers.orchestrator import LaneEventHandler
from services.workers.weighings import WeighingIntake
from streams import clock
from streams.broker import EmbeddedBroker
from streams.calls import CallEventV1, decode_call
from streams.clients import ensure_topics, make_producer
from streams.errors import BrokerError
from streams.lane_events import LaneEventV1
from streams.manifests import ManifestV1
from streams.runtime import ConsumerRuntime, Decoder, Handler
from streams.topics import (
    BOOKINGS,
    CALLS,
    CAMERA_FRAMES,
    LANE_EVENTS,
    MANIFESTS,
    PLATE_READS,
    WEIGH_IN_MOTION,
    all_topics,
)
from streams.watch import BrokerWatch
from streams.watermark import Partition
from streams.weigh import WeighInMotionV1

if TYPE_CHECKING:  # the recognition extra is imported only by the recognizer
    from services.workers.recognizer import DecodedFrame, RecognizerWorker

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Infrastructure:
    settings: Settings
    bootstrap: str
    broker: EmbeddedBroker | None
    sessions: async_sessionmaker[AsyncSession]
    producer: AIOKafkaProducer
    gates: Mapping[str, Gate]
    watch: BrokerWatch  # this process's view of the broker (streams/watch.py)


async def prepare_database(engine: AsyncEngine, gates: Mapping[str, Gate]) -> None:
    await migrate(engine)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        for gate in gates.values():
            await repo.ensure_gate(session=session, gate=gate)
    async with sessions() as session, session.begin():
        rebuilt = await rebuild_plate_keys(session=session)
    if rebuilt:
        log.info("plate keys rebuilt for %d manifests (scheme %s)", rebuilt, KEY_SCHEME)


@asynccontextmanager
async def open_database(
    settings: DatabaseSettings,
    *,
    gates: Mapping[str, Gate] | None = None,
    on_connect: Callable[[Any, Any], None] | None = None,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The one place a process opens the database: the engine built from `settings`,
    migrated and its gates written when `gates` are given, disposed of on exit.
    `on_connect(dbapi_connection, record)` runs on each new connection, after the engine's
    own set-up (the replay sandbox turns SQLite's journal and fsync off with it)."""
    engine = create_engine(settings)
    if on_connect is not None:
        event.listen(engine.sync_engine, "connect", on_connect)
    try:
        await reach_database(engine, settings)
        if gates is not None:
            await prepare_database(engine, gates)
        yield session_factory(engine)
    finally:
        await engine.dispose()


def system_gates(settings: Settings) -> Mapping[str, Gate]:
    """The gates this system runs with (`BORDERFLOW_GATES_DIR`'s files, else the packaged
    ones), its default gate (`BORDERFLOW_GATE_ID`) checked to be one of them: every command
    that starts the system (`up`, `migrate`, each worker, the API) takes its gates here, so
    an unknown default gate stops each at start-up with the same GateConfigError (one line
    naming the variable and the known gates; `migrate` took it and migrated)."""
    gates = configured_gates(settings.gates_dir)
    require_default_gate(settings.gate_id, gates, settings.gates_dir)
    return gates


@asynccontextmanager
async def infrastructure(
    settings: Settings, *, allow_embedded: bool = True
) -> AsyncIterator[Infrastructure]:
    """Everything a worker or the API needs, torn down in reverse order on exit."""
    gates = system_gates(settings)
    async with AsyncExitStack() as stack:
        bootstrap = settings.kafka.bootstrap
        broker = None
        if bootstrap is None:
            if not allow_embedded:
                raise SystemExit(
                    "BORDERFLOW_KAFKA_BOOTSTRAP is not set: this command joins a running "
                    "system (start one with `borderflow up` or `borderflow broker`)"
                )
            settings.var_dir.mkdir(parents=True, exist_ok=True)
            broker = EmbeddedBroker(
                port=settings.kafka.embedded_port, log_path=settings.var_dir / "tansu.log"
            )
            await broker.start()
            stack.push_async_callback(broker.stop)
            bootstrap = broker.bootstrap
            log.info("embedded Tansu broker on %s", bootstrap)
        sessions = await stack.enter_async_context(open_database(settings.database, gates=gates))
        try:
            await ensure_topics(settings.kafka, bootstrap, all_topics())
        except BrokerError as exc:
            if broker is not None:
                raise
            # an external broker that does not answer at start: the process exits (status
            # 2) and whatever runs it starts it again (was a traceback)
            raise SettingError(f"BORDERFLOW_KAFKA_BOOTSTRAP={bootstrap}: {exc}") from exc
        producer = make_producer(settings.kafka, bootstrap)
        await producer.start()
        watch = BrokerWatch(
            settings=settings.kafka, bootstrap=bootstrap, producer=producer, topics=all_topics()
        )
        stack.push_async_callback(_stop_producer, producer, watch)
        watching, stop_watch = await _start_watch(watch)
        stack.push_async_callback(_stop_watch, watching, stop_watch)
        yield Infrastructure(
            settings=settings,
            bootstrap=bootstrap,
            broker=broker,
            sessions=sessions,
            producer=producer,
            gates=gates,
            watch=watch,
        )


async def _start_watch(watch: BrokerWatch) -> tuple[asyncio.Task[None], asyncio.Event]:
    await watch.check()  # the cluster as it is now: a later change is a restart
    stop = asyncio.Event()
    return asyncio.create_task(watch.run(stop), name="broker-watch"), stop


async def _stop_producer(producer: AIOKafkaProducer, watch: BrokerWatch) -> None:
    """With the broker away (its watch says so), what the producer still holds cannot be
    sent: its stop is given 1 s, not the request timeout (15 s) it waited for the pending
    sends to fail, which `borderflow up` whose broker had died spent after its stop line."""
    if watch.up:
        await producer.stop()
        return
    try:
        await asyncio.wait_for(producer.stop(), timeout=1.0)
    except TimeoutError:
        log.warning("producer stopped with sends pending: the broker is away")


async def _stop_watch(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    stop.set()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, timeout=5)


def decision_outbox(
    stores: GateStores, producer: AIOKafkaProducer, *, producer_name: str, drain_at_start: bool
) -> DecisionOutbox:
    """The one place a decision outbox is built: one per process that decides (the decider,
    the lane-event worker, the control room, the replay)."""
    return DecisionOutbox(
        stores=stores,
        producer=producer,
        producer_name=producer_name,
        drain_at_start=drain_at_start,
    )


def make_decider(
    *,
    stores: GateStores,
    producer: AIOKafkaProducer,
    gates: Mapping[str, Gate],
    policy: Policy,
    matcher: Matcher | None = None,
    clock_window: ClockWindow | None = None,
    incremental_alerts: bool = False,
) -> Decider:
    """The plate reads' consumer and its use case (decide a batch of reads) on the unit of
    work `stores`, with the decision and alert outboxes they share. `incremental_alerts`:
    the alert rules judge only what changed since the last batch (for a store that never
    rolls back: the replay in memory)."""
    name = decider_worker.PRODUCER_NAME
    outbox = decision_outbox(stores, producer, producer_name=name, drain_at_start=True)
    alerts = AlertOutbox(stores=stores, producer=producer, producer_name=name)
    handler = DecideReadsHandler(
        uow=stores,
        decisions=outbox,
        alerts=alerts,
        gates=gates,
        matcher=matcher or OcrMatcher(),
        policy=policy,
        incremental_alerts=incremental_alerts,
    )
    return Decider(
        decide=handler, outbox=outbox, alert_outbox=alerts, gates=gates, clock_window=clock_window
    )


def make_lane_event_handler(
    *,
    stores: GateStores,
    producer: AIOKafkaProducer,
    gates: Mapping[str, Gate],
    policy: Policy,
    group_id: str,
) -> LaneEventHandler:
    """The lane events' consumer and its use case (apply a batch of lane events)."""
    outbox = decision_outbox(
        stores, producer, producer_name=orchestrator.PRODUCER_NAME, drain_at_start=True
    )
    handler = ApplyLaneEventsHandler(uow=stores, decisions=outbox, gates=gates, policy=policy)
    return LaneEventHandler(apply=handler, outbox=outbox, gates=gates, group_id=group_id)


def control_actions(
    sessions: async_sessionmaker[AsyncSession], gates: Mapping[str, Gate]
) -> Callable[[AIOKafkaProducer], ControlRoomHandlers]:
    """The control room's use cases on the database (a controller's action, the alerts'
    workflow), given the control room's producer (its lifespan makes one). Its outbox does
    not drain at start-up: the deciding workers do; it sends its own decisions."""

    def build(producer: AIOKafkaProducer) -> ControlRoomHandlers:
        stores = sql_control_stores(sessions)
        outbox = decision_outbox(stores, producer, producer_name=CONTROL_ROOM, drain_at_start=False)
        return ControlRoomHandlers(
            apply=ApplyActionHandler(
                uow=stores, decisions=outbox, gates=gates, policy=OrchestratedPolicy()
            ),
            change_alert=ChangeAlertStatusHandler(uow=stores),
        )

    return build


def build_decider(infra: Infrastructure) -> tuple[Decider, ConsumerRuntime[GateRead]]:
    decider = make_decider(
        stores=sql_gate_stores(infra.sessions),
        producer=infra.producer,
        gates=infra.gates,
        policy=OrchestratedPolicy(),
        clock_window=ClockWindow.of(
            infra.settings.reads_max_ahead_s, infra.settings.reads_max_behind_s
        ),
    )
    infra.watch.on_new_cluster(decider.outbox.republish_since)
    runtime = _consumer(
        infra,
        topics=[PLATE_READS.name],
        group_id=infra.settings.consumer_group,
        decode=decider.decode,
        handle=decider.handle,
        on_idle=decider.idle,
        on_backlog=decider.partitions.backlog,
    )
    return decider, runtime


def _consumer(
    infra: Infrastructure,
    *,
    topics: Sequence[str],
    group_id: str,
    decode: Decoder[T],
    handle: Handler[T],
    on_idle: Callable[[], Awaitable[None]] | None = None,
    dead_letters_of: Collection[str] | None = None,
    on_backlog: Callable[[frozenset[Partition]], None] | None = None,
) -> ConsumerRuntime[T]:
    """A worker's consumer on the system's broker, producer (dead letters) and settings;
    after a reconnect it recreates the topics (the embedded broker keeps none).
    `dead_letters_of`: the topics whose too-large records it dead-letters (None: all)."""
    return ConsumerRuntime(
        settings=infra.settings.kafka,
        bootstrap=infra.bootstrap,
        topics=topics,
        group_id=group_id,
        decode=decode,
        handle=handle,
        producer=infra.producer,
        on_idle=on_idle,
        on_reconnect=_topics_recreator(infra),
        dead_letters_of=dead_letters_of,
        on_backlog=on_backlog,
    )


# The topics a worker of their own reads and dead-letters (decider, manifest intake,
# lane-event worker, weighings, call-forward for bookings, call notifier): a side reader
# (the archiver; call-forward on reads and lane events) leaves a too-large record of these
# to that worker, so that it gets one dead letter, not one per consumer group (a 1.5 MB plate
# read got three: decider, call-forward, archiver).
READ_BY_THEIR_WORKER = frozenset(
    t.name for t in (PLATE_READS, MANIFESTS, LANE_EVENTS, WEIGH_IN_MOTION, BOOKINGS, CALLS)
)


def _topics_recreator(infra: Infrastructure) -> Callable[[], Awaitable[None]]:
    async def recreate_topics() -> None:
        # A broker that restarted empty (the embedded one keeps nothing) needs its topics.
        await ensure_topics(infra.settings.kafka, infra.bootstrap, all_topics())

    return recreate_topics


def lane_events_consumer_group(settings: Settings) -> str:
    return f"{settings.consumer_group}-lane-events"


def build_lane_events(
    infra: Infrastructure,
) -> tuple[LaneEventHandler, ConsumerRuntime[LaneEventV1]]:
    """The orchestrator's `borderflow.lane-events` consumer, in a consumer group of its own.
    It shares the gates' locks and boards with the decider (same policy)."""
    handler = make_lane_event_handler(
        stores=sql_gate_stores(infra.sessions),
        producer=infra.producer,
        gates=infra.gates,
        policy=OrchestratedPolicy(),
        group_id=lane_events_consumer_group(infra.settings),
    )
    infra.watch.on_new_cluster(handler.outbox.republish_since)
    runtime = _consumer(
        infra,
        topics=[LANE_EVENTS.name],
        group_id=lane_events_consumer_group(infra.settings),
        decode=handler.decode,
        handle=handler.handle,
        on_idle=handler.idle,
    )
    handler.dead_letters = runtime.dead_letter  # the held events refused later (idle step)
    return handler, runtime


def archiver_consumer_group(settings: Settings) -> str:
    return f"{settings.consumer_group}-archiver"


def build_archiver(infra: Infrastructure) -> tuple[Archiver, ConsumerRuntime[ArchivedRecord]]:
    """The event archive's worker (issue 7): every topic, in a consumer group of its own."""
    archiver = Archiver(sessions=infra.sessions)
    runtime = _consumer(
        infra,
        topics=archived_topics(),
        group_id=archiver_consumer_group(infra.settings),
        decode=archiver.decode,
        handle=archiver.handle,
        on_idle=archiver.idle,
        dead_letters_of=set(archived_topics()) - READ_BY_THEIR_WORKER,
    )
    return archiver, runtime


def file_manifests(sessions: async_sessionmaker[AsyncSession]) -> FileManifestsHandler:
    """The manifest use case on the database: the `borderflow.manifests` consumer's and
    the bulk import's (`borderflow manifests import`)."""
    return FileManifestsHandler(uow=sql_manifest_stores(sessions))


def manifests_consumer_group(settings: Settings) -> str:
    return f"{settings.consumer_group}-manifests"


def build_manifest_intake(
    infra: Infrastructure,
) -> tuple[ManifestIntake, ConsumerRuntime[ManifestV1]]:
    """The `borderflow.manifests` worker, in a consumer group of its own."""
    group = manifests_consumer_group(infra.settings)
    intake = ManifestIntake(
        file=file_manifests(infra.sessions), producer=infra.producer, group_id=group
    )
    runtime = _consumer(
        infra,
        topics=[MANIFESTS.name],
        group_id=group,
        decode=intake.decode,
        handle=intake.handle,
    )
    return intake, runtime


def weighings_consumer_group(settings: Settings) -> str:
    return f"{settings.consumer_group}-weighings"


def make_weighing_intake(
    *, sessions: async_sessionmaker[AsyncSession], gate_ids: Collection[str]
) -> WeighingIntake:
    """The weigh-in-motion intake and its use case (record a batch of weighings) on the
    database (the live intake's, or the replay's SQLite sandbox)."""
    return WeighingIntake(
        record=RecordWeighingsHandler(uow=sql_weighing_stores(sessions)), gate_ids=gate_ids
    )


def build_weighing_intake(
    infra: Infrastructure,
) -> tuple[WeighingIntake, ConsumerRuntime[WeighInMotionV1]]:
    """The `borderflow.weigh-in-motion` intake (issue 22), in a consumer group of its own;
    run with the manifest intake (services/workers/weighings.py says why)."""
    intake = make_weighing_intake(sessions=infra.sessions, gate_ids=list(infra.gates))
    runtime = _consumer(
        infra,
        topics=[WEIGH_IN_MOTION.name],
        group_id=weighings_consumer_group(infra.settings),
        decode=intake.decode,
        handle=intake.handle,
    )
    return intake, runtime


def recognizer_consumer_group(settings: Settings) -> str:
    return f"{settings.consumer_group}-recognizer"


def build_recognizer(
    infra: Infrastructure,
) -> tuple[RecognizerWorker, ConsumerRuntime[DecodedFrame]]:
    """The `borderflow.camera-frames` -> `borderflow.plate-reads` worker (issue 8), in a
    consumer group of its own; image references resolve under `var_dir/frames`."""
    # imported here: the recognition extra (onnxruntime, OpenCV) is for this worker only
    from plate_recognition.pipeline import PlateRecognizer  # noqa: PLC0415
    from services.workers.recognizer import RecognizerWorker  # noqa: PLC0415

    group = recognizer_consumer_group(infra.settings)
    worker = RecognizerWorker(
        recognizer=PlateRecognizer(),
        producer=infra.producer,
        frames_dir=infra.settings.var_dir / "frames",
    )
    runtime = _consumer(
        infra,
        topics=[CAMERA_FRAMES.name],
        group_id=group,
        decode=worker.decode,
        handle=worker.handle,
    )
    return worker, runtime


def step_waiting_areas(
    *,
    sessions: async_sessionmaker[AsyncSession],
    gates: Mapping[str, Gate],
    publish: Publish,
    secret: bytes,
) -> StepWaitingAreasHandler:
    """Call-forward's use case on the database, its calls written to the calls' outbox in
    each batch's transaction and sent with `publish` once it commits, its drivers' pages
    signed with `secret`."""
    stores = sql_callforward_stores(sessions, secret=secret)
    return StepWaitingAreasHandler(
        uow=stores,
        gates=gates,
        new_desk=desk_maker(secret),
        calls=CallOutbox(stores=stores, publish=publish),
    )


def make_callforward(
    *,
    sessions: async_sessionmaker[AsyncSession],
    gates: Mapping[str, Gate],
    publish: Publish,
    secret: bytes,
    bookings_topic: str = BOOKINGS.name,
    lane_events_topic: str = LANE_EVENTS.name,
    clock_window: ClockWindow | None = None,
) -> CallForwardWorker:
    """The call-forward worker and its use case (`step_waiting_areas`); `bookings_topic`,
    `lane_events_topic`: where its check-ins and its gates' lane events come from;
    `clock_window`: how far ahead of its record a plate read may be."""
    return CallForwardWorker(
        step=step_waiting_areas(sessions=sessions, gates=gates, publish=publish, secret=secret),
        bookings_topic=bookings_topic,
        lane_events_topic=lane_events_topic,
        clock_window=clock_window,
    )


def callforward_consumer_group(settings: Settings) -> str:
    return f"{settings.consumer_group}-callforward"


def build_callforward(
    infra: Infrastructure,
) -> tuple[CallForwardWorker, ConsumerRuntime[Consumed]]:
    """The call-forward worker (issue 23): plate reads, booking events (check-ins) and lane
    events (its gates' time between reads), in a consumer group of its own."""
    secret = drivers_secret(infra.settings.drivers_secret, infra.settings.var_dir)
    worker = make_callforward(
        sessions=infra.sessions,
        gates=infra.gates,
        publish=kafka_publisher(infra.producer),
        secret=secret,
        # the decider's door: a read too far ahead would move the queue's clock ahead
        clock_window=ClockWindow.of(infra.settings.reads_max_ahead_s, None),
    )
    infra.watch.on_new_cluster(worker.step.calls.republish_since)
    runtime = _consumer(
        infra,
        topics=[PLATE_READS.name, BOOKINGS.name, LANE_EVENTS.name],
        group_id=callforward_consumer_group(infra.settings),
        decode=worker.decode,
        handle=worker.handle,
        on_idle=worker.idle,  # the calls' outbox: marks, and what a failure left
        dead_letters_of=[BOOKINGS.name],  # its only reader; the others have their worker
    )
    return worker, runtime


def call_notifier_consumer_group(settings: Settings) -> str:
    return f"{settings.consumer_group}-call-notifier"


def demo_call_router(infra: Infrastructure, client: httpx.AsyncClient) -> CallRouter:
    """The notifier of the demo and of `borderflow worker call-notifier`: the firms'
    webhooks, and SMS to the local fake sink (no gateway is configured: a driver's phone
    has no source yet, so each truck gets a stand-in number `fake:<visit id>`)."""
    return CallRouter(
        sessions=infra.sessions,
        client=client,
        sms=LoggingSmsSink(),
        phone_of=lambda visit_id: f"{STAND_IN}{visit_id}",
    )


def make_call_notifier(
    *,
    sessions: async_sessionmaker[AsyncSession],
    notifier: Notifier,
    retries: Retries | None = None,
    batch: int = 100,
    utc_offsets: Mapping[str, timedelta] | None = None,
    public_url: str | None = None,
) -> CallNotifier:
    """The call notifier and its use cases (keep each call once, deliver the due ones with
    backoff) on the database, sending with `notifier`; `utc_offsets`: gate id -> the local
    time its texts give; `public_url`: the drivers' pages' base (BORDERFLOW_PUBLIC_URL) for
    the link a call's SMS gives, None: the code and the path `/d`."""
    notices = CallNotices(
        uow=sql_call_notice_stores(sessions),
        notifier=notifier,
        wall=clock.wall_clock,
        retries=retries,
        batch=batch,
        utc_offsets=utc_offsets,
        public_url=public_url,
    )
    return CallNotifier(notices=notices)


def build_call_notifier(
    infra: Infrastructure, notifier: Notifier
) -> tuple[CallNotifier, ConsumerRuntime[CallEventV1]]:
    """The call notifier (issue 23): `borderflow.calls`, in a consumer group of its own."""
    worker = make_call_notifier(
        sessions=infra.sessions,
        notifier=notifier,
        utc_offsets={gate_id: gate.utc_offset for gate_id, gate in infra.gates.items()},
        public_url=infra.settings.public_url,
    )

    async def deliver_due() -> None:
        await worker.deliver_due()

    runtime = _consumer(
        infra,
        topics=[CALLS.name],
        group_id=call_notifier_consumer_group(infra.settings),
        decode=lambda record: decode_call(record.value),
        handle=worker.handle,
        on_idle=deliver_due,
    )
    return worker, runtime
