"""Implementations of the single-purpose commands (each joins a running system)."""

from __future__ import annotations

import asyncio
import logging
import sys

import httpx

from services.bootstrap import (
    Infrastructure,
    build_archiver,
    build_call_notifier,
    build_callforward,
    build_decider,
    build_lane_events,
    build_manifest_intake,
    build_recognizer,
    build_weighing_intake,
    demo_call_router,
    infrastructure,
    open_database,
    system_gates,
)
from services.bootstrap.serving import (
    api_server,
    install_stop_signals,
    port_taken,
    publish_left,
    watch_broker,
)
from services.db.engine import display_url
from services.runtime.metrics import serve_worker_metrics
from services.runtime.setting_errors import SettingError
from services.runtime.settings import Settings
from streams.broker import EmbeddedBroker
from streams.clients import ensure_topics
from streams.errors import BrokerError
from streams.topics import all_topics

log = logging.getLogger(__name__)


async def run_migrate(settings: Settings) -> int:
    async with open_database(settings.database, gates=system_gates(settings)):
        pass
    print(f"database {display_url(settings.database)} is at the latest schema")
    return 0


async def run_broker(settings: Settings, *, port: int | None) -> int:
    stop = asyncio.Event()
    install_stop_signals(stop)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    broker = EmbeddedBroker(
        port=settings.kafka.embedded_port if port is None else port,
        log_path=settings.var_dir / "tansu.log",
    )
    await broker.start()
    try:
        # the topics at once, before any client's Metadata request makes the broker
        # auto-create them with its default partitions (the embedded broker starts empty)
        await ensure_topics(settings.kafka, broker.bootstrap, all_topics())
        print(f"BORDERFLOW_KAFKA_BOOTSTRAP={broker.bootstrap}", flush=True)
        await watch_broker(broker, stop)
    except BrokerError as exc:
        print(f"borderflow broker: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        await broker.stop()
    return 0


# the role names the container image uses (deploy/), for the workers' own names
WORKER_ROLES = {"matcher": "decider", "orchestrator": "lane-events"}


async def run_worker(settings: Settings, name: str) -> int:
    stop = asyncio.Event()
    install_stop_signals(stop)
    name = WORKER_ROLES.get(name, name)
    serve_worker_metrics(settings.metrics_port)
    known = ("decider", "manifests", "lane-events", "recognizer", "archiver")
    if name not in (*known, "callforward", "call-notifier"):
        raise SystemExit(f"unknown worker {name!r}")
    async with infrastructure(settings, allow_embedded=False) as infra:
        if name in ("callforward", "call-notifier"):  # issue 23
            return await run_call_worker(infra, name, stop)
        if name == "lane-events":
            handler, events = build_lane_events(infra)
            log.info("lane-event worker consuming as group %s", events.group_id)
            await events.run(stop)
            await publish_left(
                "decisions",
                handler.outbox.drain,
                settings.kafka.request_timeout_s,
                broker_up=infra.watch.up,
            )
            return 0
        if name == "recognizer":
            _, frames = build_recognizer(infra)
            log.info("recognizer worker consuming as group %s", frames.group_id)
            await frames.run(stop)
            return 0
        if name == "archiver":  # issue 7: every topic into the event archive
            _, archiving = build_archiver(infra)
            log.info("archiver consuming every topic as group %s", archiving.group_id)
            await archiving.run(stop)
            return 0
        if name == "manifests":
            _, intake = build_manifest_intake(infra)
            _, weighings = build_weighing_intake(infra)  # issue 22: alongside, see its module
            log.info("manifest intake worker consuming as group %s", intake.group_id)
            await asyncio.gather(intake.run(stop), weighings.run(stop))
            return 0
        decider, runtime = build_decider(infra)
        log.info("decider worker consuming as group %s", settings.consumer_group)
        await runtime.run(stop)
        await publish_left(
            "decisions",
            decider.publish_outbox,
            settings.kafka.request_timeout_s,
            broker_up=infra.watch.up,
        )
    return 0


async def run_call_worker(infra: Infrastructure, name: str, stop: asyncio.Event) -> int:
    """`callforward`: the waiting areas' queue, calls on borderflow.calls and the drivers'
    pages; `call-notifier`: each call to the firm's webhook and to the (fake) SMS sink."""
    if name == "callforward":
        worker, reads = build_callforward(infra)
        log.info("call-forward worker consuming as group %s", reads.group_id)
        await reads.run(stop)
        await publish_left(
            "calls",
            worker.step.calls.drain,
            infra.settings.kafka.request_timeout_s,
            broker_up=infra.watch.up,
        )
        return 0
    async with httpx.AsyncClient() as client:
        notifier, calls = build_call_notifier(infra, demo_call_router(infra, client))
        log.info("call notifier consuming as group %s", calls.group_id)
        await asyncio.gather(calls.run(stop), notifier.run(stop))
    return 0


async def run_api(settings: Settings) -> int:
    host, port = settings.api.host, settings.api.port
    if (taken := port_taken(host, port)) is not None:  # was uvicorn's traceback, status 3
        raise SettingError(
            f"BORDERFLOW_API_PORT={port}: cannot serve the API on {host}:{port} ({taken}); "
            "BORDERFLOW_API_HOST and BORDERFLOW_API_PORT choose where"
        )
    stop = asyncio.Event()
    install_stop_signals(stop)
    async with infrastructure(settings, allow_embedded=False) as infra:
        server = api_server(infra)
        task = asyncio.create_task(server.serve())
        await stop.wait()
        server.stop()
        await task
    return 0
