"""`borderflow up`: broker, database, decider, API and simulator in one process (and the
call-forward worker and the calls' notifier with the fake SMS sink, issue 23).

Ctrl-C (SIGINT) or SIGTERM stops everything in order; the embedded broker dies with us
even on SIGKILL (PR_SET_PDEATHSIG), so no stray process is left."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timezone
from typing import Any

import httpx

from lanes.bookings import local_when
from lanes.model import Gate
from services.bootstrap import (
    Infrastructure,
    build_archiver,
    build_call_notifier,
    build_callforward,
    build_decider,
    build_lane_events,
    build_manifest_intake,
    build_weighing_intake,
    demo_call_router,
    infrastructure,
    system_gates,
)
from services.bootstrap.serving import (
    api_server,
    install_stop_signals,
    port_taken,
    publish_left,
    watch_broker,
)
from services.cli.demo_account import DEMO_USER, ensure_demo_controller
from services.db.engine import display_url
from services.gates.loader import get_gate
from services.runtime.settings import Settings
from services.simulation.plan import check_traffic_gate
from services.simulation.traffic import (
    DEMO_ANOMALY_RATE,
    demo_anomalies,
    plan_summary,
    plan_traffic,
    publish_reads,
    publish_weighings,
    seed_manifest_versions,
    seed_manifests,
)
from services.workers.decider import Decider, DeciderStats, GateRead
from streams import clock
from streams.runtime import ConsumerRuntime

log = logging.getLogger(__name__)

BOOKING_RULES = frozenset({"no_show_rate", "rebook_jump", "booking_burst"})


async def _progress(
    decider: Decider,
    runtimes: Sequence[ConsumerRuntime[Any]],
    stop: asyncio.Event,
    every: float,
) -> None:
    """A line every `every` s: the decider's counts, and the dead letters of every worker
    (the decider's alone until 2026-12-05: a stranger's bad manifest did not show)."""
    started = time.monotonic()
    last_seen, last_t = 0, started
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        now = time.monotonic()
        s = decider.stats
        rate = (s.reads - last_seen) / max(now - last_t, 1e-9) * 60
        last_seen, last_t = s.reads, now
        print(
            f"[{now - started:6.0f}s] reads {s.reads:6d} ({rate:7.0f}/min)  "
            f"trucks {s.visits:5d}  assigned {s.decisions['assigned']:5d}  "
            f"review {s.decisions['needs_review']:4d}  refused {s.decisions['refused']:3d}  "
            f"published {s.published:5d}  "
            f"dead-letters {sum(r.stats.dead_lettered for r in runtimes)}",
            flush=True,
        )


def final_tally(s: DeciderStats, *, dead_letters: int) -> str:
    """The decider's totals once every worker has stopped: it goes on through the batch it
    holds when Ctrl-C comes, so the last progress line can be short of them (found by an
    analyst's try: 845 trucks on the last line, 979 decided and replayed)."""
    decided = sum(s.decisions[o] for o in ("assigned", "needs_review", "refused"))
    return (
        f"at stop: reads {s.reads}  trucks {s.visits}  assigned {s.decisions['assigned']}  "
        f"review {s.decisions['needs_review']}  refused {s.decisions['refused']}  "
        f"published {s.published}  dead-letters {dead_letters}; decided {decided}: the "
        "trucks a replay of this run counts (those arriving but not decided, e.g. waiting "
        "in a waiting area for their call, are not)"
    )


async def supervise(
    stop: asyncio.Event, tasks: list[asyncio.Task[object]], *, may_end: frozenset[str]
) -> list[str]:
    """Wait for `stop`, or for one of `tasks` to fail or to end on its own (a task named in
    `may_end`, the simulator, may finish its work; the others run until stopped); returns
    why, nothing for a stop. A worker that dies is never left dead while the rest go on:
    the caller stops everything and exits non-zero, so whatever runs the process (systemd,
    Kubernetes, a shell) sees it and restarts it."""
    stopper = asyncio.create_task(stop.wait(), name="stop")
    pending: set[asyncio.Task[object]] = set(tasks)
    problems: list[str] = []
    try:
        while not stop.is_set() and not problems and pending:
            done, _ = await asyncio.wait({stopper, *pending}, return_when=asyncio.FIRST_COMPLETED)
            for task in done - {stopper}:
                pending.discard(task)
                name = task.get_name()
                if task.cancelled():
                    problems.append(f"{name} was cancelled")
                elif (exc := task.exception()) is not None:
                    log.error("%s failed", name, exc_info=exc)
                    problems.append(f"{name} failed: {type(exc).__name__}: {exc}")
                elif name not in may_end and not stop.is_set():
                    problems.append(f"{name} ended on its own")
    finally:
        stopper.cancel()
    return problems


async def run_up(
    settings: Settings,
    *,
    simulator: bool,
    trucks: int,
    speedup: float,
    seed: int | None,
    anomaly_rate: float = DEMO_ANOMALY_RATE,
    start: datetime | None = None,
) -> int:
    stop = asyncio.Event()
    install_stop_signals(stop)
    async with infrastructure(settings) as infra:
        decider, runtime = build_decider(infra)
        _, manifest_runtime = build_manifest_intake(infra)
        _, lane_events_runtime = build_lane_events(infra)
        _, weighings_runtime = build_weighing_intake(infra)  # issue 22
        archiver, archiver_runtime = build_archiver(infra)  # issue 7: every event, for replays
        archive_stop = asyncio.Event()  # the archiver stops last (see below)
        archiving = asyncio.create_task(archiver_runtime.run(archive_stop), name="archiver")
        server = api_server(infra)
        # issue 23: the waiting areas' calls, the drivers' pages, and the calls' notifier
        # (the firms' webhooks and the fake SMS sink, which logs each text)
        callforward, callforward_runtime = build_callforward(infra)
        sms_client = httpx.AsyncClient()
        call_notifier, calls_runtime = build_call_notifier(
            infra, demo_call_router(infra, sms_client)
        )
        counted: list[ConsumerRuntime[Any]] = [  # whose dead letters the progress counts
            runtime,
            manifest_runtime,
            lane_events_runtime,
            weighings_runtime,
            callforward_runtime,
            calls_runtime,
        ]
        tasks = [
            asyncio.create_task(runtime.run(stop), name="decider"),
            asyncio.create_task(manifest_runtime.run(stop), name="manifests"),
            asyncio.create_task(lane_events_runtime.run(stop), name="lane-events"),
            asyncio.create_task(weighings_runtime.run(stop), name="weighings"),
            asyncio.create_task(server.serve(), name="api"),
            asyncio.create_task(callforward_runtime.run(stop), name="callforward"),
            asyncio.create_task(calls_runtime.run(stop), name="call-notifier"),
            asyncio.create_task(call_notifier.run(stop), name="call-deliveries"),
            asyncio.create_task(
                _progress(decider, counted, stop, every=5.0),
                name="progress",
            ),
        ]
        print(
            f"borderflow up: broker {infra.bootstrap}"
            f"{' (embedded Tansu)' if infra.broker else ''}, "
            f"database {display_url(settings.database)}, "
            f"API http://{settings.api.host}:{settings.api.port} (/control, /health, /docs), "
            "manifests on borderflow.manifests, lane events on borderflow.lane-events, "
            "calls on borderflow.calls (drivers' pages /d/<token>, SMS to the fake sink)",
            flush=True,
        )
        if simulator and (password := await ensure_demo_controller(infra.sessions)):
            print(
                f"control room: http://{settings.api.host}:{settings.api.port}/control "
                f"(user {DEMO_USER}, password {password}; made once for this database)",
                flush=True,
            )
        if infra.broker is not None:  # the embedded one: up stops if it dies
            tasks.append(asyncio.create_task(watch_broker(infra.broker, stop), name="broker"))
        if simulator:
            tasks.append(
                asyncio.create_task(
                    _simulate(
                        infra,
                        runtime,
                        stop,
                        trucks=trucks,
                        speedup=speedup,
                        seed=seed,
                        anomaly_rate=anomaly_rate,
                        start=start,
                    ),
                    name="simulator",
                )
            )
        else:
            print("no simulator: waiting for plate reads on borderflow.plate-reads", flush=True)
        print("Ctrl-C stops everything.", flush=True)
        # the archiver is watched too: a dead archiver would lose the replays' input
        # silently (found by a stranger's try: it died on a read and nobody saw)
        problems = await supervise(stop, [archiving, *tasks], may_end=frozenset({"simulator"}))
        stop.set()
        server.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await publish_left(
            "decisions",
            decider.publish_outbox,
            settings.kafka.request_timeout_s,
            broker_up=infra.watch.up,
        )
        await publish_left(
            "calls",
            callforward.step.calls.drain,
            settings.kafka.request_timeout_s,
            broker_up=infra.watch.up,
        )
        await sms_client.aclose()
        if not archiving.done() and infra.watch.up:
            await archiver.drain(archive_stop)  # what the others published last is archived
        # with the broker away, at once: it waited its 10 s for a poll that could not come
        archive_stop.set()
        await asyncio.gather(archiving, return_exceptions=True)
        dead_letters = sum(r.stats.dead_lettered for r in counted)
        print(final_tally(decider.stats, dead_letters=dead_letters), flush=True)
        if problems:
            print(f"borderflow stopped: {'; '.join(problems)}", file=sys.stderr, flush=True)
            return 1
        print("borderflow stopped cleanly.", flush=True)
    return 0


async def _simulate(
    infra: Infrastructure,
    runtime: ConsumerRuntime[GateRead],
    stop: asyncio.Event,
    *,
    trucks: int,
    speedup: float,
    seed: int | None,
    anomaly_rate: float = DEMO_ANOMALY_RATE,
    start: datetime | None = None,
) -> None:
    gate = get_gate(infra.settings.gate_id, infra.gates)
    now = clock.wall_clock().replace(microsecond=0)
    start = traffic_start(gate, start, now=now)
    seed = _seed_for(now, seed)  # new traffic each run, another day's too
    spec = demo_anomalies(trucks, anomaly_rate)
    plan = plan_traffic(gate=gate, trucks=trucks, start=start, seed=seed, anomalies=spec)
    world = plan.anomalies
    if world is None:
        await seed_manifests(infra.sessions, plan.manifests, now=start)
    else:  # issue 22: what the alert rules read besides the reads, so the panel shows alerts
        await seed_manifest_versions(infra.sessions, world.manifest_versions)
        await publish_weighings(infra.producer, world.weighings)
        # the booking kinds need the firms' booking changes, which the demo does not write
        fed = [i for i in world.injected if i.rule not in BOOKING_RULES]
        print(
            f"simulator: {len(fed)} anomalies injected "
            f"({', '.join(sorted({i.rule for i in fed}))}), {len(world.weighings)} weighings; "
            "--anomalies 0 for an ordinary day",
            flush=True,
        )
    print(
        f"simulator (seed {seed}, from {local_when(start, gate.utc_offset)}): "
        f"{plan_summary(plan)}; speed-up x{speedup:g}",
        flush=True,
    )
    # until the decider holds its partitions, or Ctrl-C: never hold a stop for 30 s here
    ready, stopping = (asyncio.ensure_future(e.wait()) for e in (runtime.ready, stop))
    await asyncio.wait({ready, stopping}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    for waiting in (ready, stopping):
        waiting.cancel()
    sent = await publish_reads(
        infra.producer, plan.reads, speedup=speedup, sim_start=start, stop=stop
    )
    if stop.is_set():
        print(f"simulator: stopped after {sent} of {len(plan.reads)} reads", flush=True)
    else:
        print(f"simulator: published all {sent} reads; the system keeps running", flush=True)


async def run_simulate_traffic(
    settings: Settings,
    *,
    trucks: int,
    speedup: float,
    seed: int | None,
    noise: float,
    seed_manifests_too: bool,
    start: datetime | None = None,
) -> int:
    stop = asyncio.Event()
    install_stop_signals(stop)
    async with infrastructure(settings, allow_embedded=False) as infra:
        gate = get_gate(settings.gate_id, infra.gates)
        now = clock.wall_clock().replace(microsecond=0)
        start = traffic_start(gate, start, now=now)
        seed = _seed_for(now, seed)
        plan = plan_traffic(
            gate=gate,
            trucks=trucks,
            start=start,
            seed=seed,
            noise=noise,
        )
        if seed_manifests_too:
            await seed_manifests(infra.sessions, plan.manifests, now=start)
        print(f"simulator (seed {seed}): {plan_summary(plan)}", flush=True)
        sent = await publish_reads(
            infra.producer, plan.reads, speedup=speedup, sim_start=start, stop=stop
        )
        print(f"simulator: published {sent} reads", flush=True)
    return 0


def traffic_start(gate: Gate, given: datetime | None, *, now: datetime) -> datetime:
    """When the simulated traffic starts: `given` (`up --start`; naive is the gate's local
    time), else `now` (the wall clock: the demo's day is today's), to the second, in UTC.
    The reads are stamped from it and sent with their own time as the record's (a camera's
    clock), so a day past or coming is taken as it would be live."""
    if given is None:
        at = now
    elif given.tzinfo is None:
        at = given.replace(tzinfo=timezone(gate.utc_offset))
    else:
        at = given
    return at.astimezone(UTC).replace(microsecond=0)


def _seed_for(start: datetime, seed: int | None) -> int:
    """A given seed replays the same traffic (same event ids, which a database that has
    seen them ignores as duplicates); by default each run gets new traffic."""
    return seed if seed is not None else int(start.timestamp())


def main_up(
    settings: Settings,
    *,
    simulator: bool,
    trucks: int,
    speedup: float,
    seed: int | None,
    anomaly_rate: float = DEMO_ANOMALY_RATE,
    start: datetime | None = None,
) -> int:
    gates = system_gates(settings)  # before anything starts, simulator or not
    if simulator:  # before anything starts (found by a stranger's try: a traceback after)
        try:
            check_traffic_gate(gates[settings.gate_id])
        except ValueError as exc:
            print(f"borderflow up: {exc}", file=sys.stderr)
            return 2
    taken = port_taken(settings.api.host, settings.api.port)
    if taken is not None:
        # before anything starts (found by a stranger's try: the API failed to bind after
        # the workers had started, and the process ended in two tracebacks, status 3)
        print(
            f"borderflow up: cannot serve the API on {settings.api.host}:{settings.api.port} "
            f"({taken}); is another borderflow running? BORDERFLOW_API_PORT chooses another",
            file=sys.stderr,
        )
        return 1
    try:
        return asyncio.run(
            run_up(
                settings,
                simulator=simulator,
                trucks=trucks,
                speedup=speedup,
                seed=seed,
                anomaly_rate=anomaly_rate,
                start=start,
            )
        )
    except KeyboardInterrupt:
        return 130
    finally:
        sys.stdout.flush()
