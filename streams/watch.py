"""Noticing the broker: gone, back, or back as a new, empty cluster (issue 18).

One `BrokerWatch` per process asks the broker for its cluster id every `every_s`. It logs a
loss once and a return once (with how long it was away), keeps `borderflow_broker_up` and
`borderflow_broker_restarts_total`, and when the broker answers with another cluster id
than before (the embedded broker keeps everything in memory: a restart comes back empty)
it re-creates the topics with their specified partitions and settings, refreshes the
producer's metadata (its cached partitions may no longer exist), and calls its listeners
with the last time the old cluster was seen: the decision outboxes then publish again
every decision marked published since (consumers deduplicate by `decision_id`). Apache
Kafka keeps its cluster id across restarts, so there only the loss and return are logged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from streams import clock, metrics
from streams.clients import client_kwargs, ensure_topics
from streams.settings import KafkaSettings
from streams.topics import TopicSpec

log = logging.getLogger(__name__)

Listener = Callable[[datetime], Awaitable[None]]
# decisions marked published this long before the old cluster was last seen are sent again
# too: a send acknowledged by a broker that died right after may not have been kept
MARGIN = timedelta(seconds=2)


class BrokerWatch:
    def __init__(
        self,
        *,
        settings: KafkaSettings,
        bootstrap: str,
        producer: AIOKafkaProducer,
        topics: Iterable[TopicSpec],
        every_s: float = 1.0,
    ) -> None:
        self.settings, self.bootstrap, self.producer = settings, bootstrap, producer
        self.topics = list(topics)
        self.every_s = every_s
        self.cluster_id: str | None = None
        self.up = True
        self.last_ok: datetime | None = None  # wall clock: when the broker last answered
        self.down_since: float | None = None
        self.restarts = 0
        self.listeners: list[Listener] = []
        self.changed = asyncio.Event()  # set after each new cluster has been handled

    def on_new_cluster(self, listener: Listener) -> None:
        self.listeners.append(listener)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.check()
            except Exception:  # a watch never takes its process down
                log.exception("broker watch: check failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.every_s)

    async def check(self) -> None:
        found = await self._cluster_id()
        if found is None:
            if self.up:
                self.up, self.down_since = False, time.monotonic()
                metrics.BROKER_UP.set(0)
                log.error("broker %s unreachable: decisions wait in the outbox", self.bootstrap)
            return
        if not self.up:
            away = time.monotonic() - (self.down_since or time.monotonic())
            log.warning("broker %s answers again after %.1f s", self.bootstrap, away)
            self.up = True
        metrics.BROKER_UP.set(1)
        if self.cluster_id is not None and found != self.cluster_id:
            await self._new_cluster(found)
        self.cluster_id = found
        self.last_ok = clock.wall_clock()

    async def _new_cluster(self, found: str) -> None:
        self.restarts += 1
        metrics.BROKER_RESTARTS.inc()
        since = (self.last_ok or clock.wall_clock()) - MARGIN
        log.error(
            "broker %s came back as a new cluster (%s, was %s): it kept nothing; re-creating "
            "the topics and publishing again every decision published since %s",
            self.bootstrap,
            found,
            self.cluster_id,
            since.isoformat(),
        )
        await ensure_topics(self.settings, self.bootstrap, self.topics)
        await self.producer.client.force_metadata_update()
        for listener in self.listeners:
            await listener(since)
        self.changed.set()

    async def _cluster_id(self) -> str | None:
        kwargs = client_kwargs(self.settings, self.bootstrap)
        kwargs["request_timeout_ms"] = int(max(self.every_s, 1.0) * 2000)
        admin = AIOKafkaAdminClient(**kwargs)
        try:
            async with asyncio.timeout(max(self.every_s, 1.0) * 3):
                await admin.start()
                cluster = await admin.describe_cluster()
        except Exception:
            return None
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
        return str(cluster.get("cluster_id"))
