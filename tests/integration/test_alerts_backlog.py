"""The live decider meeting its reads as a backlog (it was down, or started late, while the
cameras sent four hours), on a real broker and database: the alerts it raises are those of
the same reads taken in event-time order in batches of 3, and a replay of its archive
raises exactly them again.

Reads are keyed by camera (one partition each) and the consumer drains a partition before
the next, so a batch may hold an entry camera's hours while the exit cameras' are still to
come. Judged at the gate's clock (the newest read), trucks due out by then were lost trucks
for exit reads not read yet. The alert step now judges up to the watermark, the oldest time
reached by a partition with records left (streams/watermark.py), recorded with each batch
for the replay (`archive_batches.watermark`)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lanes.policy import OrchestratedPolicy
from services.bootstrap import (
    build_archiver,
    build_decider,
    build_weighing_intake,
    infrastructure,
)
from services.db.alert_tables import AlertRow
from services.db.manifests import store_manifests
from services.gates.loader import default_gates
from services.replay.inputs import assemble, from_archive
from services.replay.sandbox import run_sandbox
from services.runtime.settings import DatabaseSettings
from services.simulation.traffic import archived_reads, publish_reads
from tests.integration.harness import fresh_broker, make_settings, send_weighings, wait_until
from tests.unit.test_decider_memory import anomalous_hours

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # anomalous_hours's start: 08:00 at the gate


async def test_a_backlog_taken_camera_by_camera_raises_the_alerts_of_reads_in_time_order(
    tmp_path: Path, database_settings: DatabaseSettings
) -> None:
    plan, versions, weighings = anomalous_hours()
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        # batches of 100: the backlog comes in many batches, a camera's stretch at a time
        settings = settings.model_copy(
            update={"kafka": settings.kafka.model_copy(update={"max_batch": 100})}
        )
        async with infrastructure(settings) as infra:
            archiver, archiving = build_archiver(infra)
            _, weighing = build_weighing_intake(infra)
            stop = asyncio.Event()
            tasks = [asyncio.create_task(r.run(stop)) for r in (archiving, weighing)]
            await asyncio.wait_for(archiving.ready.wait(), timeout=20)
            await asyncio.wait_for(weighing.ready.wait(), timeout=20)
            async with infra.sessions() as session, session.begin():
                for v in versions:  # filed before the day: they count from the start
                    await store_manifests(
                        session=session,
                        manifests=[v.manifest],
                        source=v.source,
                        now=v.recorded_at,
                        clock_at=v.clock_at,
                    )
            await send_weighings(broker.bootstrap, infra.sessions, weighings)
            # the cameras' four hours, sent while the decider is down
            sent = await publish_reads(infra.producer, plan.reads, speedup=0, sim_start=START)
            decider, deciding = build_decider(infra)
            tasks.append(asyncio.create_task(deciding.run(stop)))

            async def handled() -> bool:
                return decider.stats.reads + decider.stats.duplicates >= sent

            await wait_until(handled, timeout=120)
            await decider.idle()
            stop.set()
            await asyncio.gather(*tasks)
            assert archiver.stats.archived >= sent
            assert deciding.stats.batches >= 6, deciding.stats  # a backlog, in batches
            async with infra.sessions() as session:
                rows = list(await session.scalars(select(AlertRow)))
            live = sorted((r.rule, r.subject) for r in rows)
            inputs = await from_archive(
                infra.sessions, start=START - timedelta(hours=1), end=START + timedelta(days=1)
            )
    print(f"live alerts: {len(live)}, by rule {sorted(Counter(r for r, _ in live).items())}")
    # the same reads in event-time order, three a batch
    in_order = await run_sandbox(
        assemble(archived_reads(plan.reads), [], versions, fallback_batch=3),
        gates=default_gates(),
        policy=OrchestratedPolicy(),
        weighings=weighings,
    )
    expected = sorted((a["rule"], a["subject"]) for a in in_order.alerts)
    assert len(expected) >= 6
    assert live == expected
    # and the live run's own batches and watermarks, replayed: exactly its alerts
    replayed = await run_sandbox(
        inputs, gates=default_gates(), policy=OrchestratedPolicy(), weighings=weighings
    )
    assert sorted((a["rule"], a["subject"]) for a in replayed.alerts) == live
