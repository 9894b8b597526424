"""The replay decodes plate reads with the clock window the live decider had
(BORDERFLOW_READS_MAX_AHEAD_S / _BEHIND_S). Found 2026-12-06 by an operator: a decider run
with BORDERFLOW_READS_MAX_AHEAD_S=31536000 took reads sent (redriven) long before their
captured_at, and `borderflow replay` over that range refused the same recorded reads at its
built-in 300 s: 70 visits "replayed": null, "exact_differences": 84, and nothing said why."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.bootstrap import build_archiver
from services.gates.loader import get_gate
from services.replay.run import replay
from services.runtime.settings import DatabaseSettings
from services.simulation.plan import plan_traffic
from services.simulation.traffic import seed_manifests
from streams.codec import encode
from streams.topics import LANE_DECISIONS, PLATE_READS
from tests.integration.harness import fresh_broker, make_settings, running_system, wait_until
from tests.integration.replay_recording import _archived, _handled, _published

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

START = datetime(2027, 6, 30, 1, 0, tzinfo=UTC)  # 08:00 at the gate
EARLY = timedelta(hours=1)  # each read sent an hour before its captured_at (by its record)


async def test_reads_taken_live_under_a_wider_window_replay_exactly(tmp_path: Path) -> None:
    database = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'borderflow.db'}")
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database, tmp_path)
        settings = settings.model_copy(update={"reads_max_ahead_s": 2 * EARLY.total_seconds()})
        async with running_system(settings) as system:
            infra = system.infra
            archiver, archiving = build_archiver(infra)
            task = asyncio.create_task(archiving.run(system.stop))
            await asyncio.wait_for(archiving.ready.wait(), timeout=20)
            plan = plan_traffic(
                gate=get_gate("huu-nghi", infra.gates),
                trucks=20,
                start=START,
                seed=3,
                span=timedelta(minutes=20),
            )
            await seed_manifests(infra.sessions, plan.manifests, now=START - EARLY)
            for r in plan.reads:
                await infra.producer.send_and_wait(
                    PLATE_READS.name,
                    value=encode(r),
                    key=r.camera_id.encode(),
                    timestamp_ms=int((r.captured_at - EARLY).timestamp() * 1000),
                )
            await wait_until(lambda: _handled(system, len(plan.reads)), timeout=60)
            await system.decider.publish_outbox()
            published = await _published(infra)
            assert published > 0
            await wait_until(lambda: _archived(infra, LANE_DECISIONS.name, published), timeout=30)
            ids = len({r.event_id for r in plan.reads})
            await wait_until(lambda: _archived(infra, PLATE_READS.name, ids), timeout=60)
            system.stop.set()
            await asyncio.wait_for(task, timeout=20)
            assert archiver.stats.archived > 0
    outcome = await replay(
        settings,
        start=START - timedelta(hours=1),
        end=START + timedelta(days=1),
        out=tmp_path / "r",
    )
    assert outcome.exact_differences == 0, (tmp_path / "r" / "diff.jsonl").read_text()[:2000]
