"""The traffic simulator unpaced (`--speedup 0`) gives the event loop to the other tasks
every YIELD_EVERY sends: a send with room in the producer's buffer never suspends, and the
loop ran 500 sends (their JSON, their headers) before the first wait for deliveries. Under
`borderflow up --speedup 0` on a loaded machine asyncio's debug mode measured the simulator
holding the loop up to 4.0 s at a time, while the workers' heartbeats, the broker watch
and Ctrl-C waited (in one such run the watch called the live broker unreachable for 1 s)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

from aiokafka import AIOKafkaProducer

from services.gates.loader import get_gate
from services.simulation.traffic import YIELD_EVERY, plan_traffic, publish_reads

START = datetime(2025, 6, 1, 0, 0, tzinfo=UTC)


class _Producer:
    """Takes every send at once, as aiokafka's does while its buffer has room."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, topic: str, **kwargs: Any) -> asyncio.Future[None]:
        self.sent += 1
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_unpaced_sends_give_the_other_tasks_their_turn() -> None:
    plan = plan_traffic(gate=get_gate("huu-nghi"), trucks=300, start=START, seed=1)
    assert len(plan.reads) > 2 * YIELD_EVERY
    stop = asyncio.Event()
    producer = _Producer()
    asyncio.get_running_loop().call_soon(stop.set)  # a signal handler, say
    sent = await publish_reads(
        cast(AIOKafkaProducer, producer), plan.reads, speedup=0, sim_start=START, stop=stop
    )
    assert sent == YIELD_EVERY  # stopped at the first turn given; before: 500, at the
    # first wait for deliveries
