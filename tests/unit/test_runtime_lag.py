"""The consumer lag gauges across a rebalance: a partition fetched, then revoked before the
batch's lag is observed (another worker of the group died or joined), is skipped; aiokafka's
`highwater()` asserts on a partition not assigned, and that assertion stopped the worker
(tests/integration/test_multi_worker.py met it on a loaded machine, 2026-12-05)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams import metrics
from streams.runtime import ConsumerRuntime, _behind
from streams.settings import KafkaSettings

KEPT, REVOKED = TopicPartition("t", 0), TopicPartition("t", 1)


class _Rebalanced:
    """Partition 1 was fetched, then revoked: only partition 0 is still held."""

    def assignment(self) -> set[TopicPartition]:
        return {KEPT}

    def highwater(self, tp: TopicPartition) -> int:
        assert tp in self.assignment(), "Partition is not assigned"  # as aiokafka does
        return 10


def test_a_partition_revoked_since_the_fetch_is_skipped() -> None:
    runtime: ConsumerRuntime[str] = ConsumerRuntime(
        settings=KafkaSettings(),
        bootstrap="unused:9092",
        topics=["t"],
        group_id="g-lag",
        decode=lambda record: "x",
        handle=lambda batch: None,  # type: ignore[arg-type,return-value]
        producer=cast(AIOKafkaProducer, None),
    )
    runtime._observe_lag(cast(AIOKafkaConsumer, _Rebalanced()), {KEPT: 4, REVOKED: 7})
    assert metrics.CONSUMER_LAG.labels("g-lag", "t", "0")._value.get() == 6
    assert runtime._lag_labels == {("g-lag", "t", "0")}


class _Resetting:
    """Partition 0 fetched and read; partition 1 fetched, its position being looked up again
    (an offset reset): `position()` does not answer."""

    def assignment(self) -> set[TopicPartition]:
        return {KEPT, REVOKED}

    def highwater(self, tp: TopicPartition) -> int:
        return 10

    async def position(self, tp: TopicPartition) -> int:
        await asyncio.Event().wait()  # never
        return 0


async def test_a_partition_whose_position_is_not_known_counts_as_behind() -> None:
    """The batch is not held up waiting for it (`POSITION_WAIT_S`), and its records are
    waited for: nothing is known of what it holds."""
    read = cast(Any, [type("R", (), {"offset": 9})()])
    behind = await _behind(cast(AIOKafkaConsumer, _Resetting()), {KEPT: read})
    assert behind == {("t", 1)}
