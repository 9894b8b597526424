"""The archiver: a consumer group of its own on every borderflow topic (dead-letter topics
included) that stores each record, one transaction per batch, offsets committed after."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.archive.records import ArchivedRecord, from_kafka
from services.archive.store import archive
from streams.runtime import Inbound
from streams.topics import all_topics

log = logging.getLogger(__name__)


def archived_topics() -> list[str]:
    return [spec.name for spec in all_topics()]


@dataclass
class ArchiverStats:
    archived: int = 0
    duplicates: int = 0
    by_topic: Counter[str] = field(default_factory=Counter)


class Archiver:
    def __init__(self, *, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.stats = ArchiverStats()
        self.caught_up = asyncio.Event()  # set whenever a poll found nothing new

    async def idle(self) -> None:
        self.caught_up.set()

    async def drain(self, stop: asyncio.Event, *, within_s: float = 10.0) -> None:
        """Stop once everything on the topics now is archived (the next empty poll), or
        after `within_s`: run it after the other workers stopped and published their last
        records, so that a stopped system's archive holds all it did."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within_s):
                for _ in range(2):  # twice: a poll already under way may come back empty
                    self.caught_up.clear()
                    await self.caught_up.wait()
        stop.set()

    def decode(self, record: ConsumerRecord) -> ArchivedRecord:
        return from_kafka(record)  # never refuses: undecodable bytes are archived as they are

    async def handle(self, batch: Sequence[Inbound[ArchivedRecord]]) -> None:
        records = [item.event for item in batch]
        async with self.sessions() as session, session.begin():
            stored = await archive(session=session, records=records)
        self.stats.archived += stored
        self.stats.duplicates += len(records) - stored
        self.stats.by_topic.update(r.topic for r in records)
