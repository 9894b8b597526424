"""`borderflow redrive`: publish an archived range, or a dead-letter topic's records (after
a fix), back onto a topic, for a new consumer group to read: key, value and headers as they
were (the `dlq.*` headers dropped), at most `rate` records a second, or only counted with
`dry_run`."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from services.archive.records import ArchivedRecord

DLQ_HEADER = "dlq."


class Sender(Protocol):
    async def send_and_wait(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes | None]] | None = None,
    ) -> Any: ...


@dataclass(frozen=True)
class RedrivePlan:
    records: tuple[ArchivedRecord, ...]
    to_topic: str | None  # None: each record back to its source (dlq.source.topic or topic)


@dataclass(frozen=True)
class RedriveResult:
    sent: int
    by_topic: dict[str, int]
    dry_run: bool
    wall_s: float
    # records with neither key nor value (a keyless tombstone): nothing to send, and aiokafka
    # refuses to send one
    skipped: int = 0


def dead_letters_matching(
    records: Sequence[ArchivedRecord], *, reason: str | None = None, group: str | None = None
) -> list[ArchivedRecord]:
    """The dead letters whose reason (`dlq.error`) holds `reason` (any case) and whose
    consumer group (`dlq.consumer.group`) is `group`; None: any. A redrive of what a fix
    mends, not of every dead letter (the truly bad ones came back each time), and of one
    group's copy (an outage once dead-lettered a read in each group that read it)."""

    def header(record: ArchivedRecord, name: str) -> str:
        value = dict(record.headers).get(name)
        return "" if value is None else value.decode("utf-8", "replace")

    wanted = None if reason is None else reason.casefold()
    return [
        r
        for r in records
        if (wanted is None or wanted in header(r, "dlq.error").casefold())
        and (group is None or header(r, "dlq.consumer.group") == group)
    ]


def target(record: ArchivedRecord, to_topic: str | None) -> str:
    if to_topic:
        return to_topic
    source = dict(record.headers).get("dlq.source.topic")
    return source.decode() if source else record.topic


def clean_headers(record: ArchivedRecord) -> list[tuple[str, bytes | None]]:
    return [(k, v) for k, v in record.headers if not k.startswith(DLQ_HEADER)]


async def redrive(
    records: Sequence[ArchivedRecord],
    *,
    producer: Sender | None,
    to_topic: str | None,
    rate: float | None,
    dry_run: bool,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> RedriveResult:
    """Send `records` in order, paced to `rate` a second (None or 0: unpaced); a record with
    neither key nor value is skipped and counted (aiokafka's AssertionError stopped a redrive
    there, the records after it unsent, until 2026-12-06)."""
    started = clock()
    by_topic: Counter[str] = Counter()
    skipped = 0
    for n, record in enumerate(records):
        if record.key is None and record.value is None:
            skipped += 1
            continue
        topic = target(record, to_topic)
        if not dry_run:
            if rate:
                delay = n / rate - (clock() - started)
                if delay > 0:
                    await sleep(delay)
            assert producer is not None
            await producer.send_and_wait(
                topic, value=record.value, key=record.key, headers=clean_headers(record)
            )
        by_topic[topic] += 1
    return RedriveResult(
        sum(by_topic.values()), dict(by_topic), dry_run, clock() - started, skipped=skipped
    )
