"""The consumer runtime's event-time alignment (`streams.runtime.Alignment`): which
partitions it pauses, and that it never stalls on a partition that has nothing to give.
The broker's side (a backlog read in step) is tests/integration/test_runtime_alignment.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams.runtime import Alignment, ConsumerRuntime, partitions_ahead
from streams.settings import KafkaSettings

T0 = datetime(2031, 1, 2, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
A, B, C = (TopicPartition("reads", n) for n in range(3))


def test_the_partitions_ahead_of_the_earliest_waiting_one_by_more_than_the_drift() -> None:
    latest = {A: T0, B: T0 + 3 * MIN, C: T0 + 10 * MIN}
    assert partitions_ahead(latest, {A, B, C}, 5 * MIN) == {C}
    assert partitions_ahead(latest, {A, B, C}, 10 * MIN) == set()  # at the bound: not ahead
    # A has nothing left to read: B is the earliest still waiting; C is within its drift
    assert partitions_ahead(latest, {B, C}, 7 * MIN) == set()
    assert partitions_ahead(latest, {B, C}, 6 * MIN) == {C}
    # no partition waiting, or none of them with a time: nothing paused
    assert partitions_ahead(latest, set(), 1 * MIN) == set()
    assert partitions_ahead({A: T0}, {B}, 1 * MIN) == set()


class FakeConsumer:
    """What the alignment asks of aiokafka's consumer, held in plain fields."""

    def __init__(self, assigned: set[TopicPartition], highwater: dict[TopicPartition, int]):
        self.assigned, self.highwaters = assigned, highwater
        self.paused_now: set[TopicPartition] = set()

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.highwaters.get(tp)

    def paused(self) -> set[TopicPartition]:
        return set(self.paused_now)

    def pause(self, *tps: TopicPartition) -> None:
        self.paused_now |= set(tps)

    def resume(self, *tps: TopicPartition) -> None:
        self.paused_now -= set(tps)


def runtime() -> ConsumerRuntime[Any]:
    return ConsumerRuntime(
        settings=KafkaSettings(),
        bootstrap="unused:9092",
        topics=["reads"],
        group_id="g",
        decode=lambda record: record,
        handle=lambda batch: None,  # type: ignore[arg-type,return-value]
        producer=cast(AIOKafkaProducer, None),
        alignment=Alignment(5 * MIN, lambda event: event),
    )


class Record:
    def __init__(self, tp: TopicPartition) -> None:
        self.topic, self.partition = tp.topic, tp.partition


def test_a_partition_ahead_is_paused_then_resumed_when_the_other_catches_up() -> None:
    r = runtime()
    consumer = FakeConsumer({A, B}, {A: 100, B: 100})
    r._saw(Record(A), T0)  # type: ignore[arg-type]
    r._saw(Record(B), T0 + 30 * MIN)  # type: ignore[arg-type]
    r._align(cast(AIOKafkaConsumer, consumer), {A: 10, B: 10})
    assert consumer.paused_now == {B} and r.stats.aligned_pauses == 1
    r._saw(Record(A), T0 + 28 * MIN)  # type: ignore[arg-type]
    r._align(cast(AIOKafkaConsumer, consumer), {A: 40})
    assert consumer.paused_now == set()


def test_a_partition_not_read_yet_is_waited_for_once_then_not_if_it_gives_nothing() -> None:
    r = runtime()
    consumer = FakeConsumer({A, B}, {A: 100})
    r._saw(Record(A), T0)  # type: ignore[arg-type]
    r._align(cast(AIOKafkaConsumer, consumer), {A: 10})
    assert consumer.paused_now == {A}  # B's first records may be earlier
    r._unblock(cast(AIOKafkaConsumer, consumer))  # the fetch brought nothing: B is empty
    assert consumer.paused_now == set()
    r._saw(Record(A), T0 + MIN)  # type: ignore[arg-type]
    r._align(cast(AIOKafkaConsumer, consumer), {A: 20})
    assert consumer.paused_now == set()  # B is not waited for again until it gives a record


def test_a_partition_whose_high_watermark_never_comes_is_not_waited_for_for_ever() -> None:
    """The high watermark may count records a consumer never gets (a transaction's commit
    marker): the partition seems to wait with an old time; one empty fetch ends it."""
    r = runtime()
    consumer = FakeConsumer({A, B}, {A: 50, B: 100})
    r._saw(Record(A), T0)  # type: ignore[arg-type]
    r._saw(Record(B), T0 + 30 * MIN)  # type: ignore[arg-type]
    r._align(cast(AIOKafkaConsumer, consumer), {A: 49, B: 10})  # A: one marker left
    assert consumer.paused_now == {B}
    r._unblock(cast(AIOKafkaConsumer, consumer))
    assert consumer.paused_now == set()
    r._saw(Record(B), T0 + 40 * MIN)  # type: ignore[arg-type]
    r._align(cast(AIOKafkaConsumer, consumer), {B: 20})
    assert consumer.paused_now == set()


def test_a_consumer_without_alignment_pauses_nothing() -> None:
    r = runtime()
    r.alignment = None
    consumer = FakeConsumer({A, B}, {A: 100, B: 100})
    r._saw(Record(A), T0)  # type: ignore[arg-type]
    r._saw(Record(B), T0 + 30 * MIN)  # type: ignore[arg-type]
    r._align(cast(AIOKafkaConsumer, consumer), {A: 10, B: 10})
    r._unblock(cast(AIOKafkaConsumer, consumer))
    assert consumer.paused_now == set() and r.stats.aligned_pauses == 0
