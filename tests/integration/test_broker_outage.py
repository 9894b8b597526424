"""The broker goes away and comes back: the worker keeps running and decides again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.config import DatabaseSettings
from streams.broker import EmbeddedBroker
from streams.clients import ensure_topics
from streams.topics import LANE_DECISIONS, all_topics
from tests.integration.harness import (
    as_message,
    collect,
    decision_payloads,
    make_settings,
    manifest,
    publish,
    read,
    running_system,
    seed,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def test_worker_survives_a_broker_restart(
    tmp_path: Path, database_settings: DatabaseSettings
) -> None:
    broker = EmbeddedBroker(log_path=tmp_path / "tansu-1.log")
    await broker.start()
    port = int(broker.bootstrap.rsplit(":", 1)[1])
    settings = make_settings(broker.bootstrap, database_settings, tmp_path)
    second: EmbeddedBroker | None = None
    try:
        async with running_system(settings) as system:
            await seed(
                system.infra, manifest("MF-1", "29H11111"), manifest("MF-2", "29H22222"), now=T0
            )
            await publish(broker.bootstrap, as_message(read("before", "29H11111", T0)))
            first = await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1)
            assert len(first) == 1

            await broker.stop()  # the broker dies, and comes back empty on the same port
            await asyncio.sleep(2)
            second = EmbeddedBroker(port=port, log_path=tmp_path / "tansu-2.log")
            await second.start()
            await ensure_topics(settings.kafka, second.bootstrap, all_topics())

            later = T0 + timedelta(hours=1)
            await publish(second.bootstrap, as_message(read("after", "29H22222", later)))
            decided = decision_payloads(
                await collect(second.bootstrap, LANE_DECISIONS.name, expect=1, timeout=60)
            )
            assert not system.task.done()
    finally:
        await broker.stop()
        if second is not None:
            await second.stop()
    assert [d["read_event_ids"] for d in decided] == [["after"]]
    assert decided[0]["manifest_id"] == "MF-2"
