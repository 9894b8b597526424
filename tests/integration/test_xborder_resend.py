"""What the link resends (found 2026-12-06), on SQLite and PostgreSQL: go-back-N resent
every message after the last acknowledged one, acks included, and nothing acknowledges an
ack, so one notice whose ack was late went again with every ack sent since (about 2,000 in
the case reported), and a message whose ack never came, though the other side acknowledged one
after it (so it had it), made every rewind resend all that followed, every hour, for
ever. Now: up to the last message not acknowledged in time, and the acks the other side
lacks when it resends its own (store.rewind_unacknowledged)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.crossings import Side
from services.bootstrap import prepare_database
from services.db.engine import create_engine, session_factory
from services.gates.loader import default_gates
from services.runtime.settings import DatabaseSettings, KafkaSettings
from services.xborder import store as xstore
from services.xborder.config import XborderSettings, inbound_topic
from services.xborder.link import Link, Received
from services.xborder.tables import XborderOutboxRow
from streams import clock
from streams.runtime import Inbound
from streams.xborder import ExitEventV1, XBorderMessage
from streams.xborder_sign import SigningKey, TrustedKeys, sign, verify, verify_signed
from tests.integration.test_xborder_clock import CN, T0, VN, Vietnam

pytestmark = pytest.mark.integration

LATER = T0 + timedelta(minutes=5)  # every message sent at T0 is overdue by then
CHINA = 40  # China's messages Vietnam applied and acknowledged


def _sign(message: XBorderMessage) -> bytes:
    return sign(message, VN)


async def _vietnam(engine: AsyncEngine, exits: int = 1) -> list[ExitEventV1]:
    """Vietnam sent `exits` exits (sequences 1..), then applied CHINA of China's exits (its
    sequences 1..) and sent an ack of each (ours exits + 1 ...): all sent at T0, none
    acknowledged. China's exits."""
    vn = Vietnam(engine)
    for n in range(1, exits + 1):
        await vn.exit(n, T0)
    china = [vn.china_exit(f"c{n}", T0) for n in range(1, CHINA + 1)]
    for message in china:
        assert await vn.from_china(message) == "applied"
    async with vn.sessions() as session, session.begin():
        await session.execute(update(XborderOutboxRow).values(sent_at=T0))
    return china


async def _rewind(engine: AsyncEngine, peer_resent_from: int | None = None) -> list[int]:
    """The sequences marked to be resent, each signed with its next attempt."""
    sessions = session_factory(engine)
    before = await _attempts(engine)
    async with sessions() as session, session.begin():
        await xstore.rewind_unacknowledged(
            session, sent_before=LATER, sign=_sign, peer_resent_from=peer_resent_from
        )
    async with sessions() as session:
        rows = list(await session.scalars(select(XborderOutboxRow)))
    again = sorted(r.sequence for r in rows if r.sent_at is None)
    after = await _attempts(engine)
    assert after == {n: a + (n in again) for n, a in before.items()}
    async with sessions() as session, session.begin():  # sent again
        await session.execute(update(XborderOutboxRow).values(sent_at=T0))
    return again


async def _attempts(engine: AsyncEngine) -> dict[int, int]:
    trusted = TrustedKeys.of(VN.trusted())
    async with session_factory(engine)() as session:
        rows = await session.scalars(select(XborderOutboxRow))
        return {r.sequence: verify(r.envelope.encode(), trusted).attempt for r in rows}


async def test_a_late_ack_resends_the_message_not_every_ack_sent_since(
    engine: AsyncEngine,
) -> None:
    await _vietnam(engine)
    # the exit (1), not the 40 acks after it (2..41): it went with all of them
    assert await _rewind(engine) == [1]


async def test_what_the_other_side_acknowledged_in_its_order_is_not_resent(
    engine: AsyncEngine,
) -> None:
    """Exits 1..3 sent, 2 acknowledged (so China holds 1 and 2: it applies in order) and 3
    not in time: 3 alone goes again. 1, whose ack never came, is no reason to resend (it
    was: each rewind resent 3 and every ack after it, and as 1 stays unacknowledged, again
    every hour, for ever)."""
    await _vietnam(engine, exits=3)
    async with session_factory(engine)() as session, session.begin():
        await session.execute(
            update(XborderOutboxRow).where(XborderOutboxRow.sequence == 2).values(acked_at=T0)
        )
    assert await _rewind(engine) == [3]


async def test_the_other_sides_resend_brings_the_acks_it_lacks(engine: AsyncEngine) -> None:
    """China resends its exits from its sequence 25 (it holds no ack of ours for them): our
    acks from the one after our ack of its 24th go again, none before (acks are never
    acknowledged, so nothing else would resend them: China would refuse every later ack
    of ours as reordered, for ever); China resending from 1, every ack goes."""
    await _vietnam(engine)
    async with session_factory(engine)() as session, session.begin():
        await session.execute(
            update(XborderOutboxRow).where(XborderOutboxRow.sequence == 1).values(acked_at=T0)
        )
    assert await _rewind(engine) == []  # nothing overdue
    # our exit is 1, our ack of China's n is n + 1
    assert await _rewind(engine, peer_resent_from=25) == list(range(26, CHINA + 2))
    assert await _rewind(engine, peer_resent_from=1) == list(range(2, CHINA + 2))


async def test_the_other_sides_resend_brings_no_early_copy_of_our_messages(
    engine: AsyncEngine,
) -> None:
    """Our exit, sent a moment ago and not yet acknowledged, is not among what China's
    resend brings: only our acks (a copy of the exit would bring China's second ack of it,
    nothing else; overdue, it goes in its own window)."""
    await _vietnam(engine)
    async with session_factory(engine)() as session, session.begin():
        await session.execute(
            update(XborderOutboxRow).where(XborderOutboxRow.sequence == 1).values(sent_at=LATER)
        )
    assert await _rewind(engine, peer_resent_from=1) == list(range(2, CHINA + 2))


async def test_the_link_resends_what_the_other_side_lacks_when_it_resends(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the link's receiver: China's exit 25 again (attempt 2) is `resent`, and the
    link's next rewind resends our acks from our ack of its 25th on (and the new ack)."""
    china = await _vietnam(engine)
    monkeypatch.setattr(clock, "wall_clock", lambda: T0)  # nothing of ours overdue
    link = _link(engine, VN, CN)
    assert not await link._rewind()
    again = china[24].model_copy(update={"attempt": 2})
    received = Received(verify_signed(sign(again, CN), TrustedKeys.of(CN.trusted())), None)
    topic = "borderflow.xborder.from-cn"
    assert await link.handle_received([Inbound(topic, 0, 99, b"CN", received)]) == []
    assert link.stats["resent"] == 1
    assert await link._rewind()
    async with session_factory(engine)() as session:
        unsent = sorted(
            await session.scalars(
                select(XborderOutboxRow.sequence).where(XborderOutboxRow.sent_at.is_(None))
            )
        )
    assert unsent == list(range(26, CHINA + 3))  # our acks of its 25th.., the new ack
    assert not await link._rewind()  # once


def _link(engine: AsyncEngine, me: SigningKey, peer: SigningKey) -> Link:
    """A side's link worker on `engine`, its broker never reached (the tests carry its
    messages)."""
    return Link(
        settings=XborderSettings(
            side=me.side,
            signing_key_id=me.key_id,
            signing_key=me.private_base64(),
            trusted_keys=json.dumps({peer.key_id: peer.public_base64()}),
        ),
        kafka=KafkaSettings(bootstrap="127.0.0.1:1"),
        bootstrap="127.0.0.1:1",
        sessions=session_factory(engine),
        producer=None,  # nothing is sent here
    )


class Wire:
    """Carries one side's unsent messages to the other's receiver, as its forwarder and
    the other side's broker would, losing those asked to."""

    def __init__(self) -> None:
        self.offset = 0

    async def carry(self, src: Link, dst: Link, *, lose: frozenset[int] = frozenset()) -> None:
        async with src.sessions() as session, session.begin():
            rows = await xstore.unsent(session, limit=100)
            batch = [(row.sequence, row.envelope.encode()) for row in rows]
            await xstore.mark_sent(session, [n for n, _ in batch], now=clock.wall_clock())
        items = []
        for sequence, envelope in batch:
            self.offset += 1
            if sequence not in lose:
                received = Received(verify_signed(envelope, dst.trusted), None)
                items.append(Inbound(inbound_topic(src.me), 0, self.offset, None, received))
        await dst.handle_received(items)


async def test_an_ack_lost_by_a_side_that_sends_only_acks_is_resent(
    engine: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """China sends only acks; its first is lost on the way. Vietnam refuses the second as
    reordered, and resends its exits; China acknowledges them again, behind the lost ack,
    and until 2026-12-06 resent nothing (only a message of its own not acknowledged
    started a resend): Vietnam refused every later ack of China's, and resent its exits
    every hour, for ever. Now Vietnam's resend makes China resend its acks."""
    cn_engine = create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'cn.db'}"))
    await prepare_database(cn_engine, default_gates())
    now = [T0]
    monkeypatch.setattr(clock, "wall_clock", lambda: now[0])
    await Vietnam(engine).exit(1, T0)
    await Vietnam(engine).exit(2, T0)
    vietnam, china, wire = _link(engine, VN, CN), _link(cn_engine, CN, VN), Wire()
    try:
        await wire.carry(vietnam, china)  # both applied, an ack of each queued
        await wire.carry(china, vietnam, lose=frozenset({1}))
        assert vietnam.stats["refused_reordered"] == 1
        for _ in range(3):  # a minute on each time, and everything carried
            now[0] += timedelta(minutes=2)
            for side in (vietnam, china):
                await side._rewind()
            await wire.carry(vietnam, china)
            await wire.carry(china, vietnam)
        async with vietnam.sessions() as session:
            assert (await xstore.link_state(session, me=Side.VN)).unacked == 0
    finally:
        await cn_engine.dispose()
