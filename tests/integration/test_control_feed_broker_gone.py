"""The control room's change feed stops quietly when its broker died before: found
2026-12-06 by an operator (the embedded broker stopped, then `borderflow api` stopped with
SIGTERM): the API's log ended in a CancelledError traceback from aiokafka's consumer stop
and uvicorn's 'Application shutdown failed. Exiting.' The feed's consumer now stops as the
workers' do (`streams.runtime.stop_quietly`)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, cast

import pytest

from services.control.hub import LiveHub, listen
from streams.broker import EmbeddedBroker
from streams.clients import ensure_topics
from streams.settings import KafkaSettings
from streams.topics import all_topics

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def _until(condition: Any, what: str, timeout_s: float = 30.0) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {timeout_s} s: {what}")


async def test_the_change_feed_stops_quietly_after_its_broker_died(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="aiokafka")
    broker = EmbeddedBroker(log_path=tmp_path / "tansu.log")
    await broker.start()
    settings = KafkaSettings(bootstrap=broker.bootstrap, request_timeout_s=5)
    hub = LiveHub(build=cast(Any, None), gates=["huu-nghi"])
    stop = asyncio.Event()
    try:
        await ensure_topics(settings, broker.bootstrap, all_topics())
        feed = asyncio.create_task(
            listen(hub, settings=settings, bootstrap=broker.bootstrap, stop=stop)
        )
        await _until(lambda: hub.listening, "the feed listens")
    finally:
        await broker.stop()
    # the feed's fetches fail against the dead broker (as after the operator's stop)
    await _until(
        lambda: any("fetch" in r.getMessage().lower() for r in caplog.records),
        "a failed fetch",
    )
    stop.set()
    await asyncio.wait_for(feed, timeout=60)  # raised CancelledError before
    assert feed.done() and not feed.cancelled()
