"""A record over `max_message_bytes` gets one dead letter, from the worker that reads its
topic, not one from every consumer group that reads it. A 1.5 MB plate read sent by a
third-party producer got three on `borderflow.plate-reads.dlq` (the decider's, the
call-forward worker's, the archiver's), a 1.2 MB manifest two: an operator saw three
incidents, and a redrive would have put the read back three times."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from aiokafka import AIOKafkaProducer, ConsumerRecord

from services.bootstrap import Infrastructure, build_archiver, build_callforward
from services.gates.loader import configured_gates
from services.runtime.settings import Settings
from streams.runtime import ConsumerRuntime, Inbound
from streams.settings import KafkaSettings
from streams.topics import BOOKINGS, CAMERA_FRAMES, LANE_DECISIONS, LANE_EVENTS, PLATE_READS

LIMIT = KafkaSettings().max_message_bytes


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None]] = []

    async def send(self, topic: str, *, value: bytes | None, key: Any, headers: Any) -> Any:
        self.sent.append((topic, value))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def record(topic: str, offset: int, size: int) -> ConsumerRecord:
    value = b"{" + b" " * (size - 2) + b"}"
    return ConsumerRecord(topic, 0, offset, 0, 0, b"k", value, None, 1, len(value), headers=[])


def runtime(producer: RecordingProducer, **kw: Any) -> tuple[ConsumerRuntime[bytes], list[Any]]:
    handled: list[Any] = []

    async def handle(batch: list[Inbound[bytes]]) -> None:
        handled.extend(i.offset for i in batch)

    return ConsumerRuntime(
        settings=KafkaSettings(),
        bootstrap="unused:9092",
        topics=[PLATE_READS.name, BOOKINGS.name],
        group_id="g",
        decode=lambda r: r.value,
        handle=handle,
        producer=cast(AIOKafkaProducer, producer),
        **kw,
    ), handled


async def test_a_side_reader_skips_a_too_large_record_of_a_topic_it_does_not_dead_letter() -> None:
    producer = RecordingProducer()
    side, handled = runtime(producer, dead_letters_of=[BOOKINGS.name])
    batch = [
        record(PLATE_READS.name, 0, LIMIT + 1),
        record(BOOKINGS.name, 1, LIMIT + 1),
        record(PLATE_READS.name, 2, 100),
    ]
    assert await side._process(batch, asyncio.Event())
    assert [topic for topic, _ in producer.sent] == [f"{BOOKINGS.name}.dlq"]
    assert (side.stats.skipped_too_large, side.stats.dead_lettered) == (1, 1)
    assert handled == [2]  # never handed on either


async def test_by_default_a_consumer_dead_letters_every_too_large_record() -> None:
    producer = RecordingProducer()
    owner, _ = runtime(producer)
    batch = [record(PLATE_READS.name, 0, LIMIT + 1), record(BOOKINGS.name, 1, LIMIT + 1)]
    assert await owner._process(batch, asyncio.Event())
    assert sorted(t for t, _ in producer.sent) == [
        f"{BOOKINGS.name}.dlq",
        f"{PLATE_READS.name}.dlq",
    ]


def test_the_archiver_and_call_forward_leave_the_topics_of_other_workers_to_them(
    tmp_path: Path,
) -> None:
    settings = Settings(var_dir=tmp_path)
    infra = cast(
        Infrastructure,
        SimpleNamespace(
            settings=settings,
            bootstrap="unused:9092",
            producer=None,
            sessions=None,
            gates=configured_gates(),
            watch=SimpleNamespace(on_new_cluster=lambda hook: None),  # call-forward's outbox
        ),
    )
    _, archiving = build_archiver(infra)
    owned = archiving.dead_letters_of or frozenset()
    assert PLATE_READS.name not in owned and LANE_EVENTS.name not in owned
    assert BOOKINGS.name not in owned
    # topics no worker of their own reads: the archiver is the one to dead-letter them
    assert {LANE_DECISIONS.name, CAMERA_FRAMES.name} <= owned
    _, callforward = build_callforward(infra)
    assert callforward.dead_letters_of == {BOOKINGS.name}
