"""The consumer runtime: at-least-once, idempotent handlers, dead letters, no hang.

For each batch: decode every record (an `InvalidEvent` goes to `<topic>.dlq` with the reason
and the source coordinates in headers; a value over `max_message_bytes` is never decoded and
goes there by reference, so no single record holds up its partition; only by the consumers
that write the topic's dead letters, `dead_letters_of`: a side reader of a topic, the
archiver or call-forward, skips it, else each group wrote its own copy), hand the valid ones to
the handler, which makes its effects durable, then commit the offsets with a bounded wait. A
handler failure is retried with backoff; a record that fails alone while the rest of its
batch succeeds is dead-lettered.
A record the client cannot parse is stepped past, dead-lettered (streams/unreadable.py).
The broker going away restarts the consumer with backoff. SIGINT/SIGTERM set `stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError, MessageSizeTooLargeError

from streams import clock, metrics
from streams.clients import consumer_kwargs, require_codecs, size_limits
from streams.errors import BrokerError, InvalidEvent
from streams.log_fields import event_log_fields
from streams.settings import KafkaSettings
from streams.topics import dead_letter_topic
from streams.unreadable import UNREADABLE, salvage
from streams.watermark import Partition

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Inbound(Generic[T]):
    """A decoded record with where it came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    event: T


Decoder = Callable[[ConsumerRecord], T]
# (record, reason, error type): what a handler found wrong with a record once it had the
# state to see it (e.g. a conflicting duplicate), dead-lettered after its batch commits
Rejected = tuple[Inbound[T], str, str]
Handler = Callable[[Sequence[Inbound[T]]], Awaitable[Sequence[Rejected[T]] | None]]


@dataclass
class RuntimeStats:
    consumed: int = 0
    handled: int = 0
    dead_lettered: int = 0
    batches: int = 0
    handler_retries: int = 0
    reconnects: int = 0
    commit_failures: int = 0
    skipped_too_large: int = 0  # too large, on a topic whose dead letters another group writes
    skipped_unreadable: int = 0  # the same, for a record the client cannot parse
    idle_failures: int = 0  # the idle step (an outbox drain) failed; tried again
    dead_letter_reasons: dict[str, int] = field(default_factory=dict)


def dead_letter_headers(
    record: ConsumerRecord, *, reason: str, group_id: str, error_type: str
) -> list[tuple[str, bytes]]:
    headers = [(k, v) for k, v in (record.headers or ()) if not k.startswith("dlq.")]
    headers += [
        ("dlq.error", reason.encode()),
        ("dlq.error.type", error_type.encode()),
        ("dlq.source.topic", record.topic.encode()),
        ("dlq.source.partition", str(record.partition).encode()),
        ("dlq.source.offset", str(record.offset).encode()),
        ("dlq.consumer.group", group_id.encode()),
        ("dlq.failed_at", clock.wall_clock().isoformat().encode()),
    ]
    return headers


def by_reference(
    record: ConsumerRecord, headers: list[tuple[str, bytes]]
) -> tuple[bytes, bytes | None, list[tuple[str, bytes]]]:
    """A dead letter that points at the record instead of copying it (too large to copy):
    a small JSON value with where it is and how big, the `dlq.*` headers, and the key
    when it is short. The original stays on its topic for its retention."""
    size = len(record.value or b"")
    reference = {
        "reference": {
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "timestamp_ms": record.timestamp,
            "size": size,
        },
        "reason": next((v.decode() for k, v in headers if k == "dlq.error"), ""),
    }
    kept = [(k, v) for k, v in headers if k.startswith("dlq.")]
    kept += [("dlq.value", b"reference"), ("dlq.original.size", str(size).encode())]
    key = record.key if record.key is not None and len(record.key) <= 1_024 else None
    return json.dumps(reference).encode(), key, kept


class Backoff:
    def __init__(self, first: float = 0.2, cap: float = 10.0) -> None:
        self.first, self.cap, self.current = first, cap, first

    def next(self) -> float:
        delay, self.current = self.current, min(self.cap, self.current * 2)
        return delay

    def reset(self) -> None:
        self.current = self.first


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def stop_quietly(consumer: AIOKafkaConsumer, group_id: str) -> None:
    """Stop a consumer, bounded. With the broker gone, aiokafka's stop() can raise a
    CancelledError of its own fetch task: swallow it unless our own task is cancelled.
    `group_id` names the consumer in the log (the control room's feed has no group)."""
    try:
        async with asyncio.timeout(10):
            await consumer.stop()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        log.warning("consumer %s stopped with its broker gone", group_id)
    except Exception:
        log.exception("consumer %s did not stop cleanly", group_id)


class ConsumerRuntime(Generic[T]):
    def __init__(
        self,
        *,
        settings: KafkaSettings,
        bootstrap: str,
        topics: Sequence[str],
        group_id: str,
        decode: Decoder[T],
        handle: Handler[T],
        producer: AIOKafkaProducer,
        on_idle: Callable[[], Awaitable[None]] | None = None,
        on_reconnect: Callable[[], Awaitable[None]] | None = None,
        batch_attempts: int = 3,
        dead_letters_of: Collection[str] | None = None,
        on_backlog: Callable[[frozenset[Partition]], None] | None = None,
        oversized: Callable[[ConsumerRecord, str], T] | None = None,
    ) -> None:
        """`dead_letters_of`: the topics whose too-large records this consumer dead-letters
        (None: every topic it reads); another topic's are skipped, its own reader's dead
        letter stands for them (one dead letter per record, not one per consumer group).
        `on_backlog`: told, before each batch is handled, the partitions held that have
        records left to read after it (for a watermark: streams/watermark.py).
        `oversized`: what a too-large record of a topic this consumer dead-letters is to the
        handler, made from the record (never decoded) and the reason: the handler keeps
        what it must of it and rejects it (`too_large`: dead-lettered by reference). None:
        dead-lettered here, the handler never told."""
        self.oversized = oversized
        self.settings, self.bootstrap = settings, bootstrap
        self.dead_letters_of = None if dead_letters_of is None else frozenset(dead_letters_of)
        self.topics, self.group_id = list(topics), group_id
        self.decode, self.handle, self.producer = decode, handle, producer
        self.on_idle, self.on_reconnect = on_idle, on_reconnect
        self.on_backlog = on_backlog
        self.batch_attempts = batch_attempts
        self.stats = RuntimeStats()
        self.ready = asyncio.Event()  # set once partitions are assigned the first time
        self._lag_labels: set[tuple[str, str, str]] = set()  # the lag gauges this one set
        self._idle_backoff = Backoff(first=0.2, cap=5.0)

    def _consumer(self) -> AIOKafkaConsumer:
        s = self.settings
        return AIOKafkaConsumer(
            *self.topics,
            **consumer_kwargs(s, self.bootstrap),
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=s.heartbeat_interval_ms,
            fetch_max_wait_ms=s.fetch_max_wait_ms,
            max_poll_records=s.max_batch,
            max_partition_fetch_bytes=size_limits(s).fetch,
            fetch_max_bytes=max(52_428_800, 2 * size_limits(s).fetch),
        )

    async def run(self, stop: asyncio.Event) -> None:
        require_codecs()  # else a producer's compressed batch stops its partition, unseen
        backoff = Backoff()
        while not stop.is_set():
            consumer = self._consumer()
            try:
                async with asyncio.timeout(self.settings.request_timeout_s * 2):
                    await consumer.start()
                backoff.reset()
                await self._consume(consumer, stop)
            except (KafkaError, TimeoutError, OSError) as exc:
                self.stats.reconnects += 1
                delay = backoff.next()
                log.warning(
                    "consumer %s lost the broker (%s: %s); retrying in %.1fs",
                    self.group_id,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                await _sleep_or_stop(stop, delay)
                if self.on_reconnect is not None and not stop.is_set():
                    try:
                        await self.on_reconnect()
                    except Exception as exc:
                        if not isinstance(exc, BrokerError):
                            log.exception("reconnect hook of %s failed", self.group_id)
                        else:  # the broker still away: one line, not a traceback a retry
                            log.warning(
                                "reconnect hook of %s failed, the broker still away (%s)",
                                self.group_id,
                                exc,
                            )
            finally:
                await stop_quietly(consumer, self.group_id)

    async def _consume(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                batches = await consumer.getmany(
                    timeout_ms=200, max_records=self.settings.max_batch
                )
            except UNREADABLE as exc:  # a record aiokafka cannot parse: streams/unreadable.py
                log.warning("consumer %s met a record it cannot read (%r)", self.group_id, exc)
                if not await self._salvage(consumer, stop):
                    return
                continue
            if consumer.assignment():
                self.ready.set()
            records = [r for part in batches.values() for r in part]
            if not records:
                self._observe_lag(consumer, {})  # drops the gauges of revoked partitions
                if self.on_idle is not None:
                    await self._idle(stop)
                continue
            if self.on_backlog is not None:
                self.on_backlog(await _behind(consumer, batches))
            if not await self._process(records, stop):
                return  # stopping mid-batch: nothing committed, it will be redelivered
            offsets = {tp: max(r.offset for r in part) + 1 for tp, part in batches.items() if part}
            await self._commit(consumer, offsets)
            self._observe_lag(consumer, offsets)

    async def _salvage(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> bool:
        async def process(records: list[ConsumerRecord]) -> bool:
            return await self._process(records, stop)

        async def dead_letter(record: ConsumerRecord, reason: str) -> None:
            if self.dead_letters_of is None or record.topic in self.dead_letters_of:
                await self._dead_letter([(record, reason, "unreadable")])
            else:  # one dead letter a record, by the topic's reader, as for a too-large one
                self.stats.skipped_unreadable += 1
                log.info(
                    "%s skips %s[%d]@%d: unreadable, dead-lettered by the topic's reader",
                    self.group_id,
                    record.topic,
                    record.partition,
                    record.offset,
                )

        async def commit(offsets: dict[TopicPartition, int]) -> None:
            await self._commit(consumer, offsets)

        return await salvage(
            consumer, process=process, dead_letter=dead_letter, commit=commit, stop=stop
        )

    async def _idle(self, stop: asyncio.Event) -> None:
        """The idle step (the decision outbox's drain, a delivery round), tried again after a
        pause when it fails, as a failed batch is: SQLite busy past its timeout under a
        loaded gate stopped the lane-event worker, and `borderflow up` with it (the control
        room gone), until 2026-12-05."""
        assert self.on_idle is not None
        try:
            await self.on_idle()
        except Exception as exc:
            self.stats.idle_failures += 1
            delay = self._idle_backoff.next()
            log.warning("idle step of %s failed (%r); again in %.1fs", self.group_id, exc, delay)
            await _sleep_or_stop(stop, delay)
        else:
            self._idle_backoff.reset()

    async def _process(self, records: list[ConsumerRecord], stop: asyncio.Event) -> bool:
        self.stats.consumed += len(records)
        for record in records:
            metrics.EVENTS_CONSUMED.labels(record.topic, self.group_id).inc()
        self.stats.batches += 1
        valid: list[Inbound[T]] = []
        dead: list[tuple[ConsumerRecord, str, str]] = []
        limit = self.settings.max_message_bytes
        for record in records:
            size = len(record.value or b"")
            if size > limit:  # never decoded: dead-lettered by reference, skipped
                reason = f"too-large: {size} bytes > {limit}"
                mine = self.dead_letters_of is None or record.topic in self.dead_letters_of
                if mine and self.oversized is not None:
                    event = self.oversized(record, reason)
                    valid.append(
                        Inbound(record.topic, record.partition, record.offset, record.key, event)
                    )
                elif mine:
                    dead.append((record, reason, "too_large"))
                else:
                    self.stats.skipped_too_large += 1
                    log.info(
                        "%s skips %s[%d]@%d: too large (%d bytes > %d), dead-lettered by "
                        "the topic's reader",
                        self.group_id,
                        record.topic,
                        record.partition,
                        record.offset,
                        size,
                        limit,
                    )
                continue
            try:
                event = self.decode(record)
            except InvalidEvent as exc:
                dead.append((record, exc.reason, "invalid_event"))
                continue
            valid.append(Inbound(record.topic, record.partition, record.offset, record.key, event))
        by_offset = {(r.topic, r.partition, r.offset): r for r in records}
        poison = await self._handle_isolating(valid, stop)
        if poison is None:
            return False
        for item, reason, error_type in poison:
            dead.append((by_offset[(item.topic, item.partition, item.offset)], reason, error_type))
        await self._dead_letter(dead)
        self.stats.handled += len(valid) - len(poison)
        return True

    async def _handle_isolating(
        self, batch: list[Inbound[T]], stop: asyncio.Event
    ) -> list[Rejected[T]] | None:
        """Handle the batch; returns the records the handler rejected and those that failed
        alone for their data, or None on stop. The records that fail for an outage (the
        database or the broker away) are tried again until it ends, never dead-lettered for
        it: all of them, or those tried before an outage ended half-way through the batch
        (those were dead-lettered until 2026-12-06). A loop, not a recursion: an outage of
        some minutes recursed past Python's limit."""
        found: list[Rejected[T]] = []
        while batch:
            tried = await self._attempt(batch, stop)
            if tried is None:
                return None
            rejected, batch = tried
            found += rejected
            if batch:
                log.error("%d records fail for an outage; retrying, none dead-lettered", len(batch))
                await _sleep_or_stop(stop, 1.0)
        return found

    async def _attempt(
        self, batch: list[Inbound[T]], stop: asyncio.Event
    ) -> tuple[list[Rejected[T]], list[Inbound[T]]] | None:
        """The batch's attempts, then each record alone: (rejected or failed for their data,
        failed for an outage), or None on stop."""
        backoff = Backoff(first=0.1, cap=5.0)
        attempt = 0
        while not stop.is_set():
            attempt += 1
            try:
                return list(await self.handle(batch) or ()), []
            except Exception as exc:
                self.stats.handler_retries += 1
                log.warning("handler failed on a batch of %d (%r)", len(batch), exc)
                if attempt >= self.batch_attempts and len(batch) > 1:
                    return await self._one_by_one(batch, stop)
                if attempt >= self.batch_attempts and not is_outage(exc):
                    # one record that fails for a reason no retry mends (its data, or a bug
                    # it meets): dead-lettered with the reason, not retried for ever while
                    # the partition behind it waits (redrive puts it back once fixed)
                    return [(batch[0], _reason(exc), "handler")], []
                await _sleep_or_stop(stop, backoff.next())
        return None

    async def _one_by_one(
        self, batch: list[Inbound[T]], stop: asyncio.Event
    ) -> tuple[list[Rejected[T]], list[Inbound[T]]] | None:
        failures: list[Rejected[T]] = []
        rejected: list[Rejected[T]] = []
        outaged: list[Inbound[T]] = []
        for item in batch:
            if stop.is_set():
                # stopping: the batch is abandoned, nothing committed, redelivered; going on
                # through a 500-record batch, one failing record at a time, held SIGINT of
                # `borderflow up` for 47 s after its database's connections were killed
                return None
            try:
                rejected += await self.handle([item]) or ()
            except Exception as exc:
                if is_outage(exc):  # not for its data: tried again, never dead-lettered
                    outaged.append(item)
                else:
                    failures.append((item, _reason(exc), "handler"))
        return rejected + failures, outaged

    async def dead_letter(self, dead: list[tuple[ConsumerRecord, str, str]]) -> None:
        """Dead-letter records its handler kept and found wrong later, outside a batch
        (record, reason, error type): as a batch's are, to `<topic>.dlq` with the reason."""
        await self._dead_letter(dead)

    async def _dead_letter(self, dead: list[tuple[ConsumerRecord, str, str]]) -> None:
        if not dead:
            return
        futures = []
        for record, reason, error_type in dead:
            log.warning(
                "dead-lettering %s[%d]@%d: %s",
                record.topic,
                record.partition,
                record.offset,
                reason,
                extra=event_log_fields(record, group_id=self.group_id),
            )
            self.stats.dead_lettered += 1
            self.stats.dead_letter_reasons[error_type] = (
                self.stats.dead_letter_reasons.get(error_type, 0) + 1
            )
            metrics.EVENTS_DEAD_LETTERED.labels(record.topic, self.group_id, error_type).inc()
            headers = dead_letter_headers(
                record, reason=reason, group_id=self.group_id, error_type=error_type
            )
            value, key = record.value, record.key
            if error_type == "too_large" or (value is None and key is None):
                # too large to copy, or nothing to copy: a record with neither key nor value
                # cannot be sent again as it is (aiokafka refuses one), which stopped the
                # worker on it, and again on every restart, until 2026-12-06
                value, key, headers = by_reference(record, headers)
            try:
                futures.append(
                    await self.producer.send(
                        dead_letter_topic(record.topic), value=value, key=key, headers=headers
                    )
                )
            except MessageSizeTooLargeError:  # big headers or key: the reference fits
                value, key, headers = by_reference(record, headers)
                futures.append(
                    await self.producer.send(
                        dead_letter_topic(record.topic), value=value, key=key, headers=headers
                    )
                )
        async with asyncio.timeout(self.settings.request_timeout_s):
            await asyncio.gather(*futures)
        for record, _, _ in dead:
            metrics.EVENTS_PRODUCED.labels(dead_letter_topic(record.topic)).inc()

    def _observe_lag(
        self, consumer: AIOKafkaConsumer, positions: dict[TopicPartition, int]
    ) -> None:
        """Lag per partition held: the fetched high watermark minus the next offset to
        handle. Gauges of partitions no longer held are removed (a rebalance moved them)."""
        held = set()
        now_assigned = consumer.assignment()
        for tp, position in positions.items():
            if tp not in now_assigned:
                # revoked by a rebalance since the fetch (a worker of the group died or
                # joined): aiokafka's highwater() asserts on it, which stopped the worker
                continue
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            labels = (self.group_id, tp.topic, str(tp.partition))
            metrics.CONSUMER_LAG.labels(*labels).set(max(0, highwater - position))
            held.add(labels)
        assigned = {(self.group_id, tp.topic, str(tp.partition)) for tp in now_assigned}
        for labels in (self._lag_labels | held) - assigned:
            metrics.CONSUMER_LAG.remove(*labels)
        self._lag_labels = (self._lag_labels | held) & assigned

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        try:
            async with asyncio.timeout(self.settings.commit_timeout_s):
                await consumer.commit(offsets)
        except (KafkaError, TimeoutError) as exc:
            # Effects are durable and idempotent: a redelivery changes nothing.
            self.stats.commit_failures += 1
            log.warning("offset commit failed (%s); records may be redelivered", exc)
            if isinstance(exc, TimeoutError):
                raise


# Errors that say the database or the broker is away (by class name, so that this layer
# needs no database driver): a batch failing with one is retried, never dead-lettered.
_OUTAGE_NAMES = frozenset(
    {
        "OperationalError",
        "InterfaceError",
        "DisconnectionError",
        "TimeoutError",
        "PoolTimeoutError",
        "ConnectionDoesNotExistError",
        "CannotConnectNowError",
        "TooManyConnectionsError",
        "PostgresConnectionError",
        "ConnectionFailureError",
        "AdminShutdownError",
        "CrashShutdownError",
        "InternalClientError",
        "SerializationError",
        "DeadlockDetectedError",
        "LockNotAvailableError",
        "QueryCanceledError",
    }
)
# The same by the SQLSTATE a PostgreSQL driver's error carries (asyncpg's own, and the
# adapter SQLAlchemy wraps it in): its class, or the code. A server that refuses new
# connections does not always say so by a class named above: a database not accepting
# connections (55000, `ALTER DATABASE ... ALLOW_CONNECTIONS false`), gone or renamed (3D000,
# a restore), a role or password refused (28000, 28P01: a password changed before the
# Secret) were dead-lettered record by record as "handler error" (found 2026-12-06 by an
# operator: 316 plate reads). None of these is a record's data.
_OUTAGE_SQLSTATE_CLASSES = frozenset({"08", "28", "3D", "53", "57", "58"})
_OUTAGE_SQLSTATES = frozenset({"55000", "55006", "55P03", "40001", "40P01"})


POSITION_WAIT_S = 0.5  # how long a batch waits to learn a partition's position (`_behind`)


async def _behind(
    consumer: AIOKafkaConsumer, batches: Mapping[TopicPartition, Sequence[ConsumerRecord]]
) -> frozenset[Partition]:
    """The partitions held with records left after `batches`: the last fetched high
    watermark past the next offset to handle. A partition not fetched yet (no high
    watermark known: its offset still being looked up when the first batch came) counts
    as behind, since nothing is known of what it holds; the next fetch tells."""
    behind = set()
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        if highwater is None:
            behind.add((tp.topic, tp.partition))
            continue
        part = batches.get(tp)
        try:
            if part:
                position = max(r.offset for r in part) + 1
            else:  # known at once, unless an offset is being looked up again (a reset)
                async with asyncio.timeout(POSITION_WAIT_S):
                    position = await consumer.position(tp)
        except IllegalStateError:  # revoked since (a rebalance): not ours to wait for
            continue
        except TimeoutError:  # not known now: nothing is known of what it holds
            behind.add((tp.topic, tp.partition))
            continue
        if highwater > position:
            behind.add((tp.topic, tp.partition))
    return frozenset(behind)


def is_outage(exc: BaseException) -> bool:
    """Whether `exc`, or what caused it, is the database or the broker being away (a
    connection refused, lost or timed out, a database locked) rather than the record's data
    or a bug: then retrying mends it."""
    seen: set[int] = set()
    found: BaseException | None = exc
    while found is not None and id(found) not in seen:
        seen.add(id(found))
        if isinstance(found, OSError | TimeoutError | KafkaError):
            return True
        if type(found).__name__ in _OUTAGE_NAMES or _outage_sqlstate(found):
            return True
        orig = getattr(found, "orig", None)  # a database driver's error, wrapped
        found = orig if isinstance(orig, BaseException) else (found.__cause__ or found.__context__)
    return False


def _outage_sqlstate(exc: BaseException) -> bool:
    state = getattr(exc, "sqlstate", None)
    return isinstance(state, str) and (
        state in _OUTAGE_SQLSTATES or state[:2] in _OUTAGE_SQLSTATE_CLASSES
    )


def _reason(exc: BaseException) -> str:
    return f"handler error: {type(exc).__name__}: {exc}"[:1000]


def describe(stats: RuntimeStats) -> dict[str, Any]:
    return {
        "consumed": stats.consumed,
        "handled": stats.handled,
        "dead_lettered": stats.dead_lettered,
        "reconnects": stats.reconnects,
    }
