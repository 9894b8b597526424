"""Event-time alignment of a consumer's partitions (`streams.runtime.Alignment`), on the real
broker: a consumer behind two partitions, one of which holds the same two hours as the
other, reads them in step in event time. Without it, the consumer may handle one
partition's whole backlog before the other's (call-forward called trucks whose gate read
sat unread on another partition: found in a `borderflow up --speedup 600` day)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import ConsumerRecord

from streams.clients import ensure_topics, make_producer
from streams.runtime import Alignment, ConsumerRuntime, Inbound
from streams.settings import KafkaSettings
from streams.topics import TopicSpec
from tests.kafka_plugin import unique_name

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

START = datetime(2030, 3, 4, 8, 0, tzinfo=UTC)  # event time: any day serves
MIN = timedelta(minutes=1)
PER_PARTITION = 120
BATCH = 10


def decode(record: ConsumerRecord) -> tuple[int, datetime | None]:
    body = json.loads(record.value)
    at = body.get("at")
    return record.partition, None if at is None else datetime.fromisoformat(at)


async def _consume(
    settings: KafkaSettings, bootstrap: str, topic: str, alignment: Alignment | None
) -> tuple[list[list[tuple[int, datetime | None]]], ConsumerRuntime[tuple[int, datetime | None]]]:
    batches: list[list[tuple[int, datetime | None]]] = []
    expected = 2 * PER_PARTITION + 1

    async def handle(batch: Sequence[Inbound[tuple[int, datetime | None]]]) -> None:
        batches.append([item.event for item in batch])

    producer = make_producer(settings, bootstrap)
    await producer.start()
    runtime = ConsumerRuntime(
        settings=settings.model_copy(update={"max_batch": BATCH}),
        bootstrap=bootstrap,
        topics=[topic],
        group_id=unique_name("aligned"),
        decode=decode,
        handle=handle,
        producer=producer,
        alignment=alignment,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run(stop))
    try:
        async with asyncio.timeout(60):  # a condition: every record handled
            while sum(len(b) for b in batches) < expected:
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
        await producer.stop()
    return batches, runtime


async def _backlog(settings: KafkaSettings, bootstrap: str) -> str:
    """Two partitions, each two hours of events a minute apart, all written before the
    consumer starts: partition 0's first, then partition 1's, then one event with no time
    on partition 1 (it takes no part in the alignment)."""
    topic = TopicSpec(unique_name("aligned"), 2, "k", "test")
    await ensure_topics(settings, bootstrap, [topic, topic.dlq])
    producer = make_producer(settings, bootstrap)
    await producer.start()
    try:
        for partition in (0, 1):
            for i in range(PER_PARTITION):
                value = json.dumps({"at": (START + i * MIN).isoformat()}).encode()
                await producer.send(topic.name, value=value, partition=partition)
        await producer.send(topic.name, value=b'{"note": "no time"}', partition=1)
        await producer.flush()
    finally:
        await producer.stop()
    return topic.name


def _lead(batches: list[list[tuple[int, datetime | None]]]) -> timedelta:
    """The most one partition ran ahead of the other: over the batches, the latest event
    handled minus the other partition's latest handled so far, while that one still had
    events to come."""
    latest: dict[int, datetime] = {}
    last = START + (PER_PARTITION - 1) * MIN
    worst = timedelta(0)
    for batch in batches:
        for partition, at in batch:
            if at is not None:
                latest[partition] = max(latest.get(partition, at), at)
        for p, q in ((0, 1), (1, 0)):
            if p in latest and latest.get(q, START - MIN) < last:
                worst = max(worst, latest[p] - latest.get(q, START - MIN))
    return worst


async def test_a_consumer_behind_two_partitions_reads_them_in_step(
    kafka_settings: KafkaSettings, kafka_bootstrap: str
) -> None:
    topic = await _backlog(kafka_settings, kafka_bootstrap)
    drift = 5 * MIN
    batches, runtime = await _consume(
        kafka_settings, kafka_bootstrap, topic, Alignment(drift, lambda e: e[1])
    )
    events = [e for b in batches for e in b]
    assert len(events) == 2 * PER_PARTITION + 1  # nothing lost, nothing twice
    assert sorted(at for p, at in events if p == 0 and at) == [
        START + i * MIN for i in range(PER_PARTITION)
    ]
    # one partition may run ahead by the drift, plus what one fetch of it brings
    assert _lead(batches) <= drift + BATCH * MIN
    assert runtime.stats.aligned_pauses > 0


async def test_without_alignment_the_same_backlog_is_read_out_of_step(
    kafka_settings: KafkaSettings, kafka_bootstrap: str
) -> None:
    """The other side of the test above: what the alignment is there for (the broker hands
    the consumer one partition's backlog at a time)."""
    topic = await _backlog(kafka_settings, kafka_bootstrap)
    batches, runtime = await _consume(kafka_settings, kafka_bootstrap, topic, None)
    assert len([e for b in batches for e in b]) == 2 * PER_PARTITION + 1
    assert _lead(batches) > 30 * MIN
    assert runtime.stats.aligned_pauses == 0
