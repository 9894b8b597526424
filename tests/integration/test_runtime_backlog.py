"""The consumer runtime tells its handler which partitions still have records after each
batch (`on_backlog`, for the decider's watermark: streams/watermark.py), on a real broker:
a backlog on three partitions taken in batches of 4, as a worker coming back after an
outage takes it. Told before each batch, checked against what is really left: the records
of each partition not yet handed over; none is missed."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence

import pytest

from streams.clients import ensure_topics, make_producer
from streams.runtime import ConsumerRuntime, Inbound
from streams.settings import KafkaSettings
from streams.topics import TopicSpec
from streams.watermark import Partition
from tests.kafka_plugin import unique_name

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

PER_PARTITION = {0: 7, 1: 5, 2: 0}  # partition 2 has nothing: never behind


async def test_the_partitions_with_records_left_are_told_before_each_batch(
    kafka_settings: KafkaSettings, kafka_bootstrap: str
) -> None:
    topic = TopicSpec(unique_name("backlog"), partitions=3, key="camera_id", purpose="test")
    await ensure_topics(kafka_settings, kafka_bootstrap, [topic, topic.dlq])
    producer = make_producer(kafka_settings, kafka_bootstrap)
    await producer.start()
    try:
        for partition, count in PER_PARTITION.items():
            for n in range(count):
                await producer.send_and_wait(
                    topic.name, value=f"{partition}-{n}".encode(), partition=partition
                )
        told: list[frozenset[Partition]] = []
        handed: list[list[Partition]] = []
        stop = asyncio.Event()

        async def handle(batch: Sequence[Inbound[str]]) -> None:
            handed.append([(i.topic, i.partition) for i in batch])
            if sum(len(b) for b in handed) == sum(PER_PARTITION.values()):
                stop.set()

        runtime: ConsumerRuntime[str] = ConsumerRuntime(
            settings=kafka_settings.model_copy(update={"max_batch": 4}),
            bootstrap=kafka_bootstrap,
            topics=[topic.name],
            group_id=unique_name("backlog"),
            decode=lambda record: record.value.decode(),
            handle=handle,
            producer=producer,
            on_backlog=told.append,
        )
        await asyncio.wait_for(runtime.run(stop), timeout=60)
    finally:
        await producer.stop()
    assert len(handed) >= 3  # 12 records, 4 a batch
    assert len(told) == len(handed)
    left = Counter({(topic.name, p): n for p, n in PER_PARTITION.items()})
    for behind, batch in zip(told, handed, strict=True):
        left.subtract(batch)
        # every partition with records left is told (one not fetched yet is told too:
        # nothing is known of it)
        assert behind >= {p for p, n in left.items() if n > 0}, (behind, batch, left)
    assert told[0] >= {(topic.name, 0), (topic.name, 1)} - {p for p, _ in handed[0]}
    assert told[-1] == frozenset()  # all read, and every partition fetched by then
