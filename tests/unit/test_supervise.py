"""`borderflow up` never goes on with a dead worker (`services.cli.supervisor.supervise`):
a task that fails or ends on its own stops everything and makes the exit non-zero; the
simulator may finish its work; a stop is not a problem."""

from __future__ import annotations

import asyncio

from services.cli.supervisor import supervise

SIM = frozenset({"simulator"})


async def _forever(stop: asyncio.Event) -> None:
    await stop.wait()


async def _fails() -> None:
    await asyncio.sleep(0)
    raise RuntimeError("boom")


async def test_a_failing_worker_is_reported_and_ends_the_wait() -> None:
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(_forever(stop), name="decider"),
        asyncio.create_task(_fails(), name="archiver"),
    ]
    problems = await asyncio.wait_for(supervise(stop, tasks, may_end=SIM), timeout=5)
    assert problems == ["archiver failed: RuntimeError: boom"]
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_worker_that_returns_before_the_stop_is_a_problem_the_simulator_is_not() -> None:
    stop = asyncio.Event()
    sim = asyncio.create_task(asyncio.sleep(0), name="simulator")
    worker = asyncio.create_task(asyncio.sleep(0.05), name="lane-events")
    problems = await asyncio.wait_for(supervise(stop, [sim, worker], may_end=SIM), timeout=5)
    assert problems == ["lane-events ended on its own"]


async def test_a_stop_ends_the_wait_with_no_problem() -> None:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_forever(stop), name="decider")]
    waiting = asyncio.create_task(supervise(stop, tasks, may_end=SIM))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # nothing ended: still watching
    stop.set()
    assert await asyncio.wait_for(waiting, timeout=5) == []
    await asyncio.gather(*tasks)
