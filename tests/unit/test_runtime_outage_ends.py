"""The database comes back while the consumer runtime tries a failing batch one record at
a time (streams/runtime.py): the records that failed for the outage are tried again, never
dead-lettered. Before, an outage was told apart from poison only when every record of the
batch failed; one that ended half-way through the batch dead-lettered the records tried
before it came back (a decider on PostgreSQL through a proxy, the proxy stopped and started
again: 344 plate reads on borderflow.plate-reads.dlq, each 'handler error:
ConnectionRefusedError')."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import OperationalError

from streams.runtime import Inbound
from tests.unit.test_runtime_poison import runtime as runtime_of


async def test_records_failed_for_an_outage_that_ends_mid_batch_are_not_dead_lettered() -> None:
    down_for = 3 + 3  # the batch's three attempts, then the first three records alone
    handled: list[str] = []

    async def handle(batch: list[Inbound[str]]) -> None:
        nonlocal down_for
        if down_for:
            down_for -= 1
            raise OperationalError("INSERT ...", {}, ConnectionRefusedError("refused"))
        if any(item.event == "poison" for item in batch):
            raise ValueError("not a plate")  # its data: dead-lettered, as before
        handled.extend(item.event for item in batch)

    runtime = runtime_of(handle)
    names = [f"r{n}" for n in range(8)] + ["poison"]
    batch = [Inbound("t", 0, n, None, name) for n, name in enumerate(names)]
    async with asyncio.timeout(60):  # a hang guard only
        found = await runtime._handle_isolating(batch, asyncio.Event())
    assert [(item.event, kind) for item, _, kind in found or []] == [("poison", "handler")]
    assert sorted(handled) == sorted(names[:-1])


async def test_a_long_outage_is_waited_out_in_a_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each round of an outage (the batch's attempts, each record alone, a pause) recursed
    into the next: 490 rounds passed Python's recursion limit (measured; at 1.3 s of pauses
    a round at least, some 11 minutes of a database refusing connections), and the
    RecursionError stopped the worker. The pauses are skipped here; the rounds counted."""

    async def no_pause(stop: asyncio.Event, seconds: float) -> None:
        return None

    monkeypatch.setattr("streams.runtime._sleep_or_stop", no_pause)
    rounds = 2_000

    async def handle(batch: list[Inbound[str]]) -> None:
        nonlocal rounds
        if rounds:
            rounds -= len(batch) == 1  # one round: the two records alone fail
            raise OperationalError("INSERT ...", {}, ConnectionRefusedError("refused"))

    runtime = runtime_of(handle)
    batch = [Inbound("t", 0, n, None, f"r{n}") for n in range(2)]
    async with asyncio.timeout(120):  # a hang guard only
        assert await runtime._handle_isolating(batch, asyncio.Event()) == []
    assert rounds == 0
