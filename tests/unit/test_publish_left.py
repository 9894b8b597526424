"""At a stop, what an outbox still holds is published if the broker answers, and left in
the outbox if not (`services.bootstrap.serving.publish_left`): `borderflow up` whose
embedded broker had died, stopped with Ctrl-C, ended 23 s later in a traceback from its
last drain of the decisions' outbox (NodeNotReadyError), status 1, with no stop line; a
worker stopped with its broker away did the same."""

from __future__ import annotations

import asyncio
import logging
from typing import cast

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from services.bootstrap import _stop_producer
from services.bootstrap.serving import publish_left
from streams.watch import BrokerWatch


async def test_the_outbox_is_left_for_the_next_start_when_the_broker_is_away(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def drain() -> int:
        raise KafkaConnectionError("Unable to bootstrap")

    with caplog.at_level(logging.WARNING):
        await publish_left("decisions", drain, within_s=30)
    assert "decisions left in the outbox, published at the next start" in caplog.text


async def test_a_drain_that_hangs_is_given_up_at_its_bound() -> None:
    never = asyncio.Event()

    async def drain() -> None:
        await never.wait()

    async with asyncio.timeout(60):  # a hang guard only
        await publish_left("decisions", drain, within_s=0.01)


async def test_a_bug_in_the_drain_is_not_hidden() -> None:
    async def drain() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        await publish_left("decisions", drain, within_s=30)


async def test_with_the_broker_known_away_the_outbox_is_left_at_once() -> None:
    """The broker's watch says it is away: no send is tried (each waited the request
    timeout, 15 s, before the stop could go on)."""
    tried: list[str] = []

    async def drain() -> None:
        tried.append("drain")

    await publish_left("decisions", drain, within_s=30, broker_up=False)
    assert tried == []


class _Producer:
    def __init__(self) -> None:
        self.stopped = asyncio.Event()
        self.release = asyncio.Event()

    async def stop(self) -> None:  # as aiokafka's with sends pending and no broker
        await self.release.wait()
        self.stopped.set()


class _Watch:
    def __init__(self, *, up: bool) -> None:
        self.up = up


async def test_the_producer_stop_is_bounded_with_the_broker_away() -> None:
    producer = _Producer()
    async with asyncio.timeout(60):  # a hang guard only
        await _stop_producer(cast(AIOKafkaProducer, producer), cast(BrokerWatch, _Watch(up=False)))
    assert not producer.stopped.is_set()  # given up, not waited for


async def test_the_producer_stop_is_waited_for_with_the_broker_up() -> None:
    producer = _Producer()
    stopping = asyncio.create_task(
        _stop_producer(cast(AIOKafkaProducer, producer), cast(BrokerWatch, _Watch(up=True)))
    )
    await asyncio.sleep(0)
    assert not stopping.done()
    producer.release.set()
    async with asyncio.timeout(60):  # a hang guard only
        await stopping
    assert producer.stopped.is_set()
