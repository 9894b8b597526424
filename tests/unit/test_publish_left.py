"""At a stop, what an outbox still holds is published if the broker answers, and left in
the outbox if not (`services.bootstrap.serving.publish_left`): `borderflow up` whose
embedded broker had died, stopped with Ctrl-C, ended 23 s later in a traceback from its
last drain of the decisions' outbox (NodeNotReadyError), status 1, with no stop line; a
worker stopped with its broker away did the same."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiokafka.errors import KafkaConnectionError

from services.bootstrap.serving import publish_left


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
