"""Alerts leave through an outbox: stored with `published_at` NULL in the deciding
transaction, published on `borderflow.alerts` (key gate_id) after it commits, then marked.
A crash or a failed send leaves them NULL; the next drain sends them, oldest first."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import AIOKafkaProducer

from services.ports import GateStores
from streams import clock
from streams.alerts import ALERT_TYPE, AlertV1
from streams.codec import encode_enveloped
from streams.metrics import EVENTS_PRODUCED
from streams.topics import ALERTS

log = logging.getLogger(__name__)


class AlertOutbox:
    def __init__(
        self,
        *,
        stores: GateStores,
        producer: AIOKafkaProducer,
        producer_name: str,
        topic: str = ALERTS.name,
    ) -> None:
        self.stores, self.producer = stores, producer
        self.producer_name, self.topic = producer_name, topic
        self.dirty = True  # drain at start-up: a crash may have left some
        self.published = 0

    async def drain(self) -> int:
        """Publish every stored alert not yet on Kafka, then mark them."""
        if not self.dirty:
            return 0
        total = 0
        while True:
            async with self.stores() as store:
                rows = await store.unpublished_alerts(500)
            if not rows:
                break
            futures = [
                await send_alert(self.producer, AlertV1(**row), producer_name=self.producer_name)
                for row in rows
            ]
            for future in futures:
                await future
            async with self.stores() as store:
                await store.mark_alerts_published(
                    [str(r["alert_id"]) for r in rows], at=clock.wall_clock()
                )
            total += len(rows)
        self.published += total
        self.dirty = False
        return total


async def send_alert(
    producer: AIOKafkaProducer, alert: AlertV1, *, producer_name: str, topic: str = ALERTS.name
) -> asyncio.Future[Any]:
    """Send one alert event (enveloped, key gate_id); returns the send's future."""
    value, headers = encode_enveloped(
        alert,
        event_id=f"{alert.alert_id}:{alert.change}:{alert.audit_seq or 0}",
        type_=ALERT_TYPE,
        occurred_at=alert.raised_at,
        producer=producer_name,
    )
    future: asyncio.Future[Any] = await producer.send(
        topic, value=value, key=(alert.gate_id or "").encode(), headers=headers
    )
    EVENTS_PRODUCED.labels(topic).inc()
    return future
