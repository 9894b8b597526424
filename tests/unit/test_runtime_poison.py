"""The consumer runtime's answer to a batch its handler fails on (streams/runtime.py): a
record that fails alone for a reason no retry mends (its data, or a bug it meets) is
dead-lettered with the reason; an outage (the database or broker away) is retried, never
dead-lettered. Before, a batch of one failing record was retried for ever: one plate read
dated year 1 stopped its partition of the decider (found by trying the demo as a stranger)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from aiokafka import AIOKafkaProducer
from sqlalchemy.exc import OperationalError, StatementError

from streams.runtime import ConsumerRuntime, Inbound, is_outage
from streams.settings import KafkaSettings


def runtime(handle: Any) -> ConsumerRuntime[str]:
    return ConsumerRuntime(
        settings=KafkaSettings(),
        bootstrap="unused:9092",
        topics=["t"],
        group_id="g",
        decode=lambda record: "x",
        handle=handle,
        producer=cast(AIOKafkaProducer, None),
    )


def items(*names: str) -> list[Inbound[str]]:
    return [Inbound("t", 0, n, None, name) for n, name in enumerate(names)]


async def test_one_record_failing_on_its_data_is_dead_lettered_with_the_reason() -> None:
    calls: list[list[str]] = []

    async def handle(batch: list[Inbound[str]]) -> None:
        calls.append([i.event for i in batch])
        if any(i.event == "bad" for i in batch):
            raise OverflowError("date value out of range")  # as the driver raised it

    found = await runtime(handle)._handle_isolating(items("bad"), asyncio.Event())
    assert found is not None
    ((item, reason, kind),) = found
    assert (item.event, kind) == ("bad", "handler")
    assert reason.startswith("handler error: OverflowError")
    assert len(calls) == 3  # the batch's attempts, then given up


async def test_a_poison_record_in_a_batch_is_dead_lettered_and_the_rest_handled() -> None:
    handled: list[str] = []

    async def handle(batch: list[Inbound[str]]) -> None:
        if any(i.event == "bad" for i in batch):
            raise ValueError("not a plate")
        handled.extend(i.event for i in batch)

    found = await runtime(handle)._handle_isolating(items("a", "bad", "b"), asyncio.Event())
    assert [(i.event, k) for i, _, k in found or []] == [("bad", "handler")]
    assert handled == ["a", "b"]
    # every record failing on its own data: all dead-lettered (before: retried for ever)
    found = await runtime(handle)._handle_isolating(items("bad", "bad"), asyncio.Event())
    assert [i.event for i, _, _ in found or []] == ["bad", "bad"]


async def test_an_outage_is_retried_past_the_attempts_and_nothing_is_dead_lettered() -> None:
    failures = 5

    async def handle(batch: list[Inbound[str]]) -> None:
        nonlocal failures
        if failures:
            failures -= 1
            raise OperationalError("INSERT ...", {}, ConnectionRefusedError("refused"))

    assert await runtime(handle)._handle_isolating(items("a"), asyncio.Event()) == []
    assert failures == 0


def test_what_counts_as_an_outage() -> None:
    assert is_outage(ConnectionRefusedError())
    assert is_outage(TimeoutError())
    assert is_outage(OperationalError("SELECT 1", {}, Exception("database is locked")))
    wrapped = StatementError(
        "INSERT ...", "INSERT ...", {}, OverflowError("date value out of range")
    )
    assert not is_outage(wrapped)
    assert not is_outage(ValueError("bad"))
    try:
        try:
            raise ConnectionResetError("gone")
        except ConnectionResetError as exc:
            raise RuntimeError("while saving") from exc
    except RuntimeError as exc:
        assert is_outage(exc)
