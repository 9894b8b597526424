"""A truck read in its window and again after it, both reads in one Kafka record batch (a
camera gateway that batches, a decider catching up), is matched at its arrival: the real
broker and database behind tests/unit/test_decided_on_arrival.py. Found by a stranger's
camera client on `borderflow up` (2025-07-14): 'V-70: 3 min late for its window'."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from lanes.model import CustomsStatus, Direction, Manifest
from services.runtime.settings import DatabaseSettings
from streams.topics import LANE_DECISIONS, PLATE_READS
from tests.integration.harness import (
    collect,
    decision_payloads,
    fresh_broker,
    make_settings,
    read,
    running_system,
    seed,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

DAY = datetime(2025, 7, 14, tzinfo=UTC) - timedelta(hours=7)  # 00:00 at the gate


def _at(hhmm: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return DAY + timedelta(hours=h, minutes=m)


async def test_two_reads_in_one_record_batch_are_judged_at_the_first(
    database_settings: DatabaseSettings, tmp_path: Path
) -> None:
    late = Manifest(
        "V-70",
        "vendor-a",
        Direction.EXPORT,
        "29H70707",
        customs_status=CustomsStatus.CLEARED,
        window_start=_at("06:00"),
        window_end=_at("12:30"),
    )
    reads = [
        read("f1", "29H-707.07", _at("12:27"), camera="hn-exp-gate-2"),
        read("f2", "29H-707.07", _at("12:33"), camera="hn-exp-gate-2"),
    ]
    async with fresh_broker(tmp_path) as broker:
        settings = make_settings(broker.bootstrap, database_settings, tmp_path)
        async with running_system(settings) as system:
            await seed(system.infra, late, now=_at("06:00"))
            producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
            await producer.start()
            try:
                batch = producer.create_batch()
                for r in reads:  # one record batch: the decider cannot take them apart
                    batch.append(key=b"hn-exp-gate-2", value=json.dumps(r).encode(), timestamp=None)
                await producer.send_batch(batch, PLATE_READS.name, partition=0)
            finally:
                await producer.stop()
            [decision] = decision_payloads(
                await collect(broker.bootstrap, LANE_DECISIONS.name, expect=1)
            )
    assert decision["read_event_ids"] == ["f1", "f2"]  # one visit, decided on both reads
    assert (decision["match_outcome"], decision["outcome"]) == ("matched", "assigned")
