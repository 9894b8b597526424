"""A third-party producer may put any int64 in a record's timestamp: one that sends
microseconds as the milliseconds Kafka asks for dates its records in year 58,000-odd. Such a
record stopped the decider (`ClockWindow`, ValueError: year ... is out of range) and the
archiver (its broker-time fallback), hence the whole of `borderflow up`, again on every
restart. A read is decided by its `captured_at` whatever the record's timestamp, and the
archive keeps every record."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from services.archive.store import records_in_range
from services.bootstrap import build_archiver
from services.runtime.settings import DatabaseSettings
from streams.topics import LANE_DECISIONS, PLATE_READS
from tests.integration.harness import (
    collect,
    decision_payloads,
    fresh_broker,
    make_settings,
    manifest,
    read,
    running_system,
    seed,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
MICROS = int(T0.timestamp() * 1_000_000)  # microseconds where milliseconds belong


async def test_a_record_timestamp_past_year_9999_is_decided_and_archived(
    tmp_path: Path, database_settings: DatabaseSettings
) -> None:
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            infra = system.infra
            _, archiver = build_archiver(infra)
            archiving = asyncio.create_task(archiver.run(system.stop))
            await asyncio.wait_for(archiver.ready.wait(), timeout=20)
            await seed(infra, manifest("MF-1", "29H12345"), now=T0 - timedelta(hours=1))
            producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
            await producer.start()
            try:
                for value in (json.dumps(read("r-1", "29H-123.45", T0)).encode(), b"not json"):
                    await producer.send_and_wait(
                        PLATE_READS.name, value, key=b"hn-exp-gate-1", timestamp_ms=MICROS
                    )
            finally:
                await producer.stop()

            decisions = decision_payloads(
                await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1, timeout=30)
            )
            assert [d["read_event_ids"] for d in decisions] == [["r-1"]]
            assert decisions[0]["outcome"] == "assigned", decisions[0]["reason"]

            async def archived() -> bool:
                async with infra.sessions() as session:
                    rows = await records_in_range(
                        session=session,
                        start=datetime(1969, 1, 1, tzinfo=UTC),
                        end=T0 + timedelta(days=1),
                        topics=[PLATE_READS.name],
                    )
                return len(rows) == 2

            await wait_until(archived, timeout=30)
            assert not system.task.done() and not archiving.done()
            system.stop.set()
            await asyncio.wait_for(archiving, timeout=20)
