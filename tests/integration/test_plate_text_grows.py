"""A plate text that normalisation makes longer than a plate can be (NFKC spells some
characters as several: U+FDFA as 18 letters, 'ß' as 'SS') is refused naming plate_text, and
the reads behind it are decided. Found by a stranger's camera client (2026-12-06): a read of
32 such characters, within plate_text's 32, became a 64- to 576-character plate for columns
of 32 characters."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from services.runtime.settings import DatabaseSettings
from streams.topics import LANE_DECISIONS, PLATE_READS, dead_letter_topic
from tests.integration.harness import (
    collect,
    decision_payloads,
    fresh_broker,
    make_settings,
    manifest,
    read,
    running_system,
    seed,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

T0 = datetime(2025, 7, 14, 3, 0, tzinfo=UTC)


async def test_a_plate_text_that_grows_past_a_plate_is_dead_lettered(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    grows = json.dumps(read("long-1", "\ufdfa" * 32, T0))
    good = json.dumps(read("good-1", "29H-123.45", T0))
    sent_ms = int(T0.timestamp() * 1000) + 500
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await seed(system.infra, manifest("MF-1", "29H12345"), now=T0)
            producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
            await producer.start()
            try:
                for value in (grows, good):
                    await producer.send_and_wait(
                        PLATE_READS.name,
                        value=value.encode(),
                        key=b"hn-exp-gate-1",
                        timestamp_ms=sent_ms,
                    )
            finally:
                await producer.stop()
            decisions = decision_payloads(
                await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1, timeout=45)
            )
            dead = await collect(broker.bootstrap, dead_letter_topic(PLATE_READS.name), expect=1)
    assert [d["read_event_ids"] for d in decisions] == [["good-1"]]
    [record] = dead
    headers = {k: v.decode() for k, v in record.headers}
    assert headers["dlq.error"].startswith("plate_text: "), headers
    assert record.value == grows.encode()
