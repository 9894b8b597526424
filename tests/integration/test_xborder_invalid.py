"""One signed but invalid cross-border message does not stall its sender's sequence: the
other side's messages, sent as its link would (signed envelopes through a bare aiokafka
producer to this side's embedded broker), with the second of three of a type this side
does not know. It is dead-lettered with its reason, counted as received (an inbox row with
the refusal, no payload kept) and acknowledged; the third is applied. Before, the second
had no place in the sequence and the third, and every message after it, was refused as
`reordered`, resent and refused again, for ever."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from lanes.crossings import ExitMode, Side
from lanes.model import Direction
from services.runtime.settings import DatabaseSettings
from services.xborder.config import inbound_topic
from services.xborder.tables import XborderInboxRow, XborderOutboxRow
from streams.xborder import ACK_TYPE, ExitEventV1, outgoing_payload
from streams.xborder_sign import SigningKey, sign, sign_payload
from tests.integration.xborder_harness import GateSide, dead_letters, eventually, gate_side

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(120)]

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest_asyncio.fixture
async def china(
    database_settings: DatabaseSettings, tmp_path: Path
) -> AsyncIterator[tuple[GateSide, GateSide]]:
    """China's link receiving; Vietnam's broker and key only (the test sends as Vietnam)."""
    vn_db = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'vn.db'}")
    async with (
        gate_side(Side.VN, vn_db, tmp_path) as vn,
        gate_side(Side.CN, database_settings, tmp_path) as cn,
    ):
        await cn.start_link(vn)
        yield vn, cn


def _exit(sequence: int, attempt: int = 1) -> ExitEventV1:
    return ExitEventV1(
        message_id=f"VN:e-{sequence}",
        sender=Side.VN,
        sequence=sequence,
        attempt=attempt,
        event_time=T0,
        crossing_id=f"VN-x{sequence}",
        tractor_plate=f"29H1234{sequence}",
        from_gate="huu-nghi",
        to_gate="youyiguan",
        direction=Direction.EXPORT,
        mode=ExitMode.ROAD,
    )


def _signed_raw(payload: dict[str, object], key: SigningKey) -> bytes:
    return sign_payload(json.dumps(payload).encode(), key)


def _unknown_type(sequence: int, attempt: int = 1) -> dict[str, object]:
    """A message of a later agreement (a type this side does not know), signed by Vietnam."""
    payload: dict[str, object] = json.loads(outgoing_payload(_exit(sequence, attempt)))
    return payload | {"type": "borderflow.xborder.customs-hold", "message_id": f"VN:h-{sequence}"}


async def test_an_invalid_message_is_refused_in_its_place_and_the_next_applied(
    china: tuple[GateSide, GateSide],
) -> None:
    vn, cn = china
    topic = inbound_topic(Side.VN)
    producer = AIOKafkaProducer(bootstrap_servers=cn.bootstrap)
    await producer.start()
    try:
        for value in (
            sign(_exit(1), vn.key),
            _signed_raw(_unknown_type(2), vn.key),
            sign(_exit(3), vn.key),
        ):
            await producer.send_and_wait(topic, value=value, key=b"VN")

        async def third_applied() -> bool:
            return (await cn.state()).last_received == 3

        await eventually(third_applied, timeout_s=30, what="the message after the invalid one")
        [dead] = await dead_letters(cn.bootstrap, f"{topic}.dlq", expect=1)
        # Vietnam resends it (go-back-N, its ack late): acknowledged again, no effect
        await producer.send_and_wait(topic, value=_signed_raw(_unknown_type(2, 2), vn.key))

        async def four_acks() -> bool:
            return await cn.count(XborderOutboxRow, XborderOutboxRow.message_type == ACK_TYPE) == 4

        await eventually(four_acks, timeout_s=30, what="the resend acknowledged")
    finally:
        await producer.stop()

    assert dead["dlq.error.type"] == "invalid"
    assert "borderflow.xborder.customs-hold" in dead["dlq.error"]
    async with cn.sessions() as session:
        inbox = (await session.scalars(select(XborderInboxRow).order_by("sequence"))).all()
        acked = set(
            await session.scalars(
                select(XborderOutboxRow.crossing_id).where(
                    XborderOutboxRow.message_type == ACK_TYPE
                )
            )
        )
    assert [(r.sequence, r.message_id, r.refusal is None) for r in inbox] == [
        (1, "VN:e-1", True),
        (2, "VN:h-2", False),
        (3, "VN:e-3", True),
    ]
    refused = inbox[1]
    assert refused.payload == "" and refused.attempt == 2
    assert refused.refusal is not None and "customs-hold" in refused.refusal
    assert acked == {"VN-x1", "VN-x2", "VN-x3"}
    crossings = {c.crossing_id: c for c in await cn.crossings()}
    assert set(crossings) == {"VN-x1", "VN-x3"}  # the refused one had no effect
    assert crossings["VN-x3"].exit is not None
    assert cn.link is not None and cn.link.stats["refused_invalid"] == 1
    assert cn.link.stats["resent"] == 1
