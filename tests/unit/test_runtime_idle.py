"""The consumer runtime's idle step (streams/runtime.py: `on_idle`, the decision outbox's
drain, a delivery round) failing is tried again, as a failed batch is. Found running
`borderflow up` on a loaded machine: SQLite stayed locked past its 30 s busy timeout while
the lane-event worker's outbox swept, the error went out of the consumer, the supervisor
stopped the system and the control room was gone for good."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy.exc import OperationalError

from streams.runtime import ConsumerRuntime
from streams.settings import KafkaSettings


class _Quiet:
    """A consumer with nothing to fetch: every poll is an idle one."""

    async def getmany(self, **_: Any) -> dict[Any, Any]:
        return {}

    def assignment(self) -> set[Any]:
        return set()


async def test_a_failing_idle_step_is_tried_again_not_raised() -> None:
    stop = asyncio.Event()
    calls = 0

    async def idle() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OperationalError(
                "UPDATE lane_decisions", {}, sqlite3.OperationalError("database is locked")
            )
        stop.set()  # the second round went through

    runtime: ConsumerRuntime[str] = ConsumerRuntime(
        settings=KafkaSettings(),
        bootstrap="unused:9092",
        topics=["t"],
        group_id="g",
        decode=lambda record: "x",
        handle=lambda batch: asyncio.sleep(0),
        producer=cast(AIOKafkaProducer, None),
        on_idle=idle,
    )
    await runtime._consume(cast(AIOKafkaConsumer, _Quiet()), stop)
    assert calls == 2
    assert runtime.stats.idle_failures == 1
