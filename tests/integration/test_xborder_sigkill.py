"""SIGKILL a side's link worker (`borderflow xborder link`, a process of its own) in the
middle of a stream of crossings, restart it: nothing lost, nothing applied twice (issue 21).
Either side: the sender (messages stored but not yet marked sent are sent again; the other
side refuses a copy it applied as replayed, with no effect) or the receiver (records
redelivered after the kill are recognised as the same records, a no-op)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lanes.crossings import Side
from services.runtime.settings import DatabaseSettings
from services.xborder.link import local_topics
from services.xborder.tables import XborderOutboxRow
from streams.clients import ensure_topics
from streams.xborder import REFUSAL_TYPE
from streams.xborder_local import LocalCrossingEventV1
from tests.integration.xborder_harness import (
    DAY,
    GateSide,
    departures,
    eventually,
    fast_kafka,
    gate_side,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.faults,
    pytest.mark.timeout(240),
]

TRUCKS = 150  # 300 messages from VN, 300 acks back


def _env(here: GateSide, peer: GateSide, db: DatabaseSettings) -> dict[str, str]:
    env = dict(os.environ)
    settings = here.settings(peer)
    env.update(
        BORDERFLOW_KAFKA_BOOTSTRAP=here.bootstrap,
        BORDERFLOW_DATABASE_URL=db.url,
        BORDERFLOW_KAFKA_SESSION_TIMEOUT_MS="2000",
        BORDERFLOW_KAFKA_HEARTBEAT_INTERVAL_MS="500",
        BORDERFLOW_KAFKA_MAX_BATCH="20",
        BORDERFLOW_KAFKA_REQUEST_TIMEOUT_S="5",
        BORDERFLOW_XBORDER_SIDE=here.side.value,
        BORDERFLOW_XBORDER_PEER_BOOTSTRAP=peer.bootstrap,
        BORDERFLOW_XBORDER_SIGNING_KEY_ID=here.key.key_id,
        BORDERFLOW_XBORDER_SIGNING_KEY=settings.signing_key.get_secret_value(),
        BORDERFLOW_XBORDER_TRUSTED_KEYS=json.dumps({peer.key.key_id: peer.key.public_base64()}),
        BORDERFLOW_XBORDER_SEND_BATCH="10",
        BORDERFLOW_XBORDER_POLL_S="0.05",
    )
    return env


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "xborder", "link"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def _while_alive(
    proc: subprocess.Popen[bytes], log: Path, check: Callable[[], Awaitable[bool]], what: str
) -> None:
    async def alive_and_check() -> bool:
        assert proc.poll() is None, log.read_text()[-3000:]  # noqa: ASYNC240
        return await check()

    await eventually(alive_and_check, timeout_s=120, what=what)


@pytest.mark.parametrize("killed", [Side.VN, Side.CN], ids=["sender", "receiver"])
async def test_sigkill_of_a_link_worker(killed: Side, tmp_path: Path) -> None:
    dbs = {s: DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / s.value}.db") for s in Side}
    log = tmp_path / "link.log"
    async with (
        gate_side(Side.VN, dbs[Side.VN], tmp_path) as vn,
        gate_side(Side.CN, dbs[Side.CN], tmp_path) as cn,
    ):
        sides = {Side.VN: vn, Side.CN: cn}
        victim, survivor = sides[killed], sides[killed.other]
        await ensure_topics(fast_kafka(victim.bootstrap), victim.bootstrap, local_topics(killed))
        await survivor.start_link(victim)
        env = _env(victim, survivor, dbs[killed])
        first = _worker(env, log)
        messages = departures(Side.VN, TRUCKS, start=DAY + timedelta(hours=6))
        publisher = asyncio.create_task(_paced(vn, cn, messages))
        try:

            async def mid_stream() -> bool:
                return await cn.inbox_count() >= len(messages) // 4

            await _while_alive(first, log, mid_stream, "a quarter applied")
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            applied_at_kill = await cn.inbox_count()
            assert applied_at_kill < len(messages), "the kill must land mid-stream"
            second = _worker(env, log)
            try:
                await publisher

                async def all_through() -> bool:
                    state, back = await vn.state(), await cn.state()
                    return (
                        await vn.taken(messages)
                        and state.pending == 0
                        and back.last_received == state.last_sent
                        and state.unacked == 0
                        and back.pending == 0  # and every ack of CN's applied by VN
                        and state.last_received == back.last_sent
                    )

                await _while_alive(second, log, all_through, "every message applied and acked")
            finally:
                second.send_signal(signal.SIGTERM)
                assert second.wait(30) == 0, log.read_text()[-3000:]
        finally:
            if first.poll() is None:
                first.kill()
        # exactly once: each side applied each message of the other once (unique ids and
        # sequences in the inbox), every one of VN's messages is a crossing fact on CN, but
        # VN's refusals of CN's copies sent again after a kill of CN's worker (each copy
        # refused is told to its sender, a refusal message of VN)
        told = await _refusals_sent(vn)
        assert await cn.inbox_count() == (await vn.state()).last_sent == len(messages) + told
        # CN acknowledged each message, and each of VN's resends again (an ack of its own)
        acks = (await cn.state()).last_sent
        assert await vn.inbox_count() == acks >= len(messages)
        crossings = await cn.crossings()
        assert len(crossings) == TRUCKS
        assert survivor.link is not None
        stats = survivor.link.stats
        # a copy sent again after the kill is refused, at most one send batch of them
        assert stats["refused_replayed"] <= 10, stats
        assert stats["refusals_sent"] == stats["refused_replayed"], stats  # each one told
        assert (
            sum(v for k, v in stats.items() if k.startswith("refused_"))
            == stats["refused_replayed"]
        )
        assert all(c.exit is not None and c.notice is not None for c in crossings)


async def _refusals_sent(side: GateSide) -> int:
    async with side.sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).where(XborderOutboxRow.message_type == REFUSAL_TYPE)
            )
            or 0
        )


async def _paced(vn: GateSide, cn: GateSide, messages: list[LocalCrossingEventV1]) -> None:
    """A stream, not one burst: at most two chunks ahead of what CN applied, so the kill
    lands mid-way whatever the speed of the machine."""
    chunk = 20
    for i in range(0, len(messages), chunk):

        async def close_behind(i: int = i) -> bool:
            return await cn.inbox_count() >= i - 2 * chunk

        await eventually(close_behind, timeout_s=120, what="CN applying the stream")
        await vn.publish(messages[i : i + chunk])
