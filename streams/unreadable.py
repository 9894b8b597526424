"""Records aiokafka cannot parse: stepped past, one by one, each dead-lettered by reference.

A producer outside the project can write a record that is valid on the wire for the broker
but that aiokafka cannot parse: a header key that is not UTF-8 (Go's clients take any bytes
for one; Java's and librdkafka's encode text). aiokafka raises on every fetch of its
partition, before handing over any record of that fetch, and forgets the records it had
already drained from the other partitions (their positions moved on). The consumer runtime
stopped there, the worker with it, and again on every restart (found 2026-12-06).

`salvage` reads every partition again from its committed offset, one record at a time:
readable records are handled as usual; at an unreadable one the position is its offset,
which gets a dead letter by reference (where it is and why, the original staying on its
topic) and is committed past. aiokafka parses a batch from its start, so the records after
an unreadable one in the same batch cannot be read either: each is dead-lettered the same
way (the reason says so).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

log = logging.getLogger(__name__)

# what aiokafka raises for a record it cannot parse (not a broker error: retrying the same
# bytes never mends it)
UNREADABLE: tuple[type[Exception], ...] = (UnicodeDecodeError,)

Process = Callable[[list[ConsumerRecord]], Awaitable[bool]]
DeadLetter = Callable[[ConsumerRecord, str], Awaitable[None]]
Commit = Callable[[dict[TopicPartition, int]], Awaitable[None]]


def placeholder(tp: TopicPartition, offset: int) -> ConsumerRecord:
    """A record standing for one that cannot be read: its coordinates only."""
    return ConsumerRecord(
        topic=tp.topic,
        partition=tp.partition,
        offset=offset,
        timestamp=-1,
        timestamp_type=0,
        key=None,
        value=None,
        checksum=None,
        serialized_key_size=-1,
        serialized_value_size=-1,
        headers=(),
    )


def unreadable_reason(exc: BaseException) -> str:
    return (
        f"unreadable: the client cannot parse this record or one before it in its batch "
        f"({type(exc).__name__}: {exc}); a header key must be UTF-8 text"
    )[:1000]


async def salvage(
    consumer: AIOKafkaConsumer,
    *,
    process: Process,
    dead_letter: DeadLetter,
    commit: Commit,
    stop: asyncio.Event,
    start: Mapping[TopicPartition, int] | None = None,
    idle_polls: int = 5,
) -> bool:
    """Every assigned partition from its committed offset (a consumer without a group:
    from `start`, what its reader already has; the beginning for a partition not in it)
    until caught up (its high watermark, or `idle_polls` empty polls), one record at a time.
    False: stopped; what is not committed is read again as usual. A partition revoked
    meanwhile is left to its new owner."""
    for tp in sorted(consumer.assignment()):
        offset = start.get(tp) if start is not None else await consumer.committed(tp)
        if offset is None:
            await consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, offset)
    for tp in sorted(consumer.assignment()):
        empty = 0
        while empty < idle_polls and tp in consumer.assignment():
            if stop.is_set():
                return False
            try:
                fetched = await consumer.getmany(tp, timeout_ms=200, max_records=1)
            except UNREADABLE as exc:
                offset = await consumer.position(tp)
                log.warning("%s[%d]@%d cannot be read: %s", tp.topic, tp.partition, offset, exc)
                await dead_letter(placeholder(tp, offset), unreadable_reason(exc))
                consumer.seek(tp, offset + 1)
                await commit({tp: offset + 1})
                empty = 0
                continue
            records = fetched.get(tp, [])
            if not records:
                if tp not in consumer.assignment():
                    break  # revoked: highwater() would assert
                highwater = consumer.highwater(tp)
                if highwater is not None and await consumer.position(tp) >= highwater:
                    break
                empty += 1
                continue
            empty = 0
            if not await process(records):
                return False
            await commit({tp: records[-1].offset + 1})
    return True
