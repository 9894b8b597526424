"""A stop (SIGINT, SIGTERM) while the consumer runtime goes through a failing batch one
record at a time (streams/runtime.py): the batch is abandoned between two records, nothing
committed, and redelivered after the restart. Before, every record of the batch was tried
first: `borderflow up`, its database's connections killed under load, took 47 s to stop
after Ctrl-C (a batch of 500 decided one by one), and minutes when each try was slow."""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import OperationalError

from streams.runtime import Inbound
from tests.unit.test_runtime_poison import runtime as runtime_of


async def test_a_stop_abandons_a_batch_tried_one_record_at_a_time() -> None:
    stop = asyncio.Event()
    singles: list[str] = []

    async def handle(batch: list[Inbound[str]]) -> None:
        if len(batch) == 1:
            singles.append(batch[0].event)
            stop.set()  # the signal arrives while the first record is tried alone
        raise OperationalError("INSERT ...", {}, ConnectionResetError("terminated"))

    runtime = runtime_of(handle)
    batch = [Inbound("t", 0, n, None, f"r{n}") for n in range(500)]
    async with asyncio.timeout(60):  # a hang guard only
        found = await runtime._handle_isolating(batch, stop)
    assert found is None  # stopping: nothing to commit or dead-letter, all redelivered
    assert singles == ["r0"]  # before: all 500 were tried after the stop
