"""`borderflow up` stops when its embedded broker's process dies (services.bootstrap.serving.
watch_broker, supervised as the task `broker`): it went on without it, every worker
retrying a broker that would never come back (memory only, nobody starts it again) and
the API answering 503, with nothing for whatever runs `up` to see (found by kill -9 of the
broker's process under load)."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest

from services.bootstrap.serving import watch_broker
from services.cli.supervisor import supervise
from streams.broker import EmbeddedBroker
from streams.errors import BrokerError


class _Broker:
    bootstrap = "127.0.0.1:9092"

    def __init__(self) -> None:
        self.returncode: int | None = None


async def test_up_stops_when_its_broker_process_exits() -> None:
    broker, stop = _Broker(), asyncio.Event()
    watching = asyncio.create_task(
        watch_broker(cast(EmbeddedBroker, broker), stop, every_s=0.01), name="broker"
    )
    broker.returncode = -9  # killed
    async with asyncio.timeout(60):  # a hang guard only
        problems = await supervise(stop, [watching], may_end=frozenset())
    assert problems == [
        "broker failed: BrokerError: the embedded broker on 127.0.0.1:9092 exited with "
        "status -9; it kept its topics in memory only"
    ]


async def test_the_watch_ends_quietly_at_a_stop() -> None:
    broker, stop = _Broker(), asyncio.Event()
    stop.set()
    async with asyncio.timeout(60):  # a hang guard only
        await watch_broker(cast(EmbeddedBroker, broker), stop)


async def test_a_broker_exited_before_the_watch_is_seen_at_once() -> None:
    broker = _Broker()
    broker.returncode = 1
    with pytest.raises(BrokerError, match="exited with status 1"):
        await watch_broker(cast(EmbeddedBroker, broker), asyncio.Event())
