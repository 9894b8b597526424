"""A record of the other side over `BORDERFLOW_KAFKA_MAX_MESSAGE_BYTES` (found 2026-12-06 by a
stranger sending China's messages by hand, one with a 2 MB field): the consumer runtime
dead-lettered it by reference before the link saw it, so it was the one refused record that
the control room did not list (`refused` in `GET /v1/xborder/state`), that
`borderflow_xborder_refused` did not count and that logged no `ALERT cross-border message
refused`, though docs/exchange.md promises all three for every record refused; the sender's
next message was then refused as `reordered` with nothing on Vietnam's page to say why.
Now the link is handed it unread: listed and counted as `too_large`, alerted, still
dead-lettered by reference, and answered with nothing (its id is not read). On SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from typing import cast

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.crossings import Side
from services.db.engine import session_factory
from services.xborder import store as xstore
from services.xborder.tables import XborderOutboxRow, XborderRefusalRow
from streams.metrics import REGISTRY
from streams.settings import KafkaSettings
from tests.integration.test_xborder_clock import CN, VN
from tests.integration.test_xborder_resend import _link
from tests.unit.test_runtime_too_large import RecordingProducer

pytestmark = pytest.mark.integration

TOPIC = "borderflow.xborder.from-cn"
LIMIT = KafkaSettings().max_message_bytes


def _refused_too_large() -> float:
    return (
        REGISTRY.get_sample_value(
            "borderflow_xborder_refused_total", {"sender": "CN", "reason": "too_large"}
        )
        or 0.0
    )


async def test_a_record_too_large_to_read_is_listed_counted_and_alerted(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async with session_factory(engine)() as session, session.begin():
        await xstore.ensure_counters(session, me=Side.VN)
    link = _link(engine, VN, CN)
    producer = RecordingProducer()
    link.inbound.producer = cast(AIOKafkaProducer, producer)
    value = b'{"format": "' + b"x" * LIMIT + b'"}'
    big = ConsumerRecord(TOPIC, 0, 45, 0, 0, b"CN", value, None, 1, len(value), headers=[])
    before = _refused_too_large()
    with caplog.at_level(logging.WARNING):
        assert await link.inbound._process([big], asyncio.Event())
    # dead-lettered once, by reference (not the 1 MB again)
    assert [topic for topic, _ in producer.sent] == [f"{TOPIC}.dlq"]
    assert len(producer.sent[0][1] or b"") < 10_000
    async with session_factory(engine)() as session:
        rows = (await session.scalars(select(XborderRefusalRow))).all()
        replies = (await session.scalars(select(XborderOutboxRow))).all()
    assert [(r.kind, r.source, r.message_id, r.acknowledged) for r in rows] == [
        ("too_large", f"{TOPIC}:0:45", None, False)
    ]
    assert f"{len(value)} bytes > {LIMIT}" in rows[0].reason
    assert replies == []  # nothing to name: no reply
    assert _refused_too_large() == before + 1
    assert "ALERT cross-border message refused (too_large)" in caplog.text
