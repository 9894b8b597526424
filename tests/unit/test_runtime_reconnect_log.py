"""While the broker is away, each retry of a consumer logs one line, not a traceback: the
reconnect hook (the topics re-created) fails for the same outage at every retry, and each
consumer logged its full traceback each time (0.2 s to 10 s apart, for as long as the
broker was away; seen under `borderflow up` and a worker with their broker killed). A hook
failing for another reason keeps its traceback."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import cast

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from streams.errors import BrokerError
from streams.runtime import ConsumerRuntime
from streams.settings import KafkaSettings


async def _retry_once(hook_error: Exception, caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()

    async def on_reconnect() -> None:
        stop.set()
        raise hook_error

    with socket.socket() as closed:  # bound, never listening: the broker away
        closed.bind(("127.0.0.1", 0))
        runtime: ConsumerRuntime[str] = ConsumerRuntime(
            settings=KafkaSettings(request_timeout_s=5),
            bootstrap=f"127.0.0.1:{closed.getsockname()[1]}",
            topics=["t"],
            group_id="g",
            decode=lambda record: "x",
            handle=lambda batch: asyncio.sleep(0),
            producer=cast(AIOKafkaProducer, None),
            on_reconnect=on_reconnect,
        )
        with caplog.at_level(logging.WARNING, logger="streams.runtime"):
            async with asyncio.timeout(60):  # a hang guard only
                await runtime.run(stop)


async def test_a_hook_failing_for_the_outage_logs_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outage = BrokerError("could not create topics")
    outage.__cause__ = KafkaConnectionError("Unable to bootstrap")
    await _retry_once(outage, caplog)
    (line,) = [r for r in caplog.records if "reconnect hook" in r.getMessage()]
    assert line.exc_info is None
    assert "reconnect hook of g failed, the broker still away" in line.getMessage()


async def test_a_hook_failing_for_a_bug_keeps_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _retry_once(ValueError("a bug"), caplog)
    (line,) = [r for r in caplog.records if "reconnect hook" in r.getMessage()]
    assert line.exc_info is not None
