"""`borderflow up` never goes on with a dead worker (`services.cli.supervisor.supervise`):
a task that fails or ends on its own stops everything and makes the exit non-zero; the
simulator may finish its work; a stop is not a problem."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from services.bootstrap.serving import port_taken
from services.cli.main import main as cli_main
from services.cli.supervisor import main_up, supervise
from services.runtime.settings import ApiSettings, Settings

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


def test_up_refuses_a_taken_port_before_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by a stranger's try: the API failed to bind after the workers had started, and
    `borderflow up` ended in two tracebacks with status 3."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert port_taken("127.0.0.1", port) is not None
        settings = Settings(api=ApiSettings(port=port), var_dir=tmp_path)
        code = main_up(settings, simulator=False, trucks=1, speedup=1.0, seed=None)
    assert code == 1
    assert f"cannot serve the API on 127.0.0.1:{port}" in capsys.readouterr().err
    assert not (tmp_path / "borderflow.db").exists()  # nothing was started
    assert port_taken("127.0.0.1", port) is None


def test_up_wants_at_least_one_truck(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli_main(["up", "--trucks", "-5"])
    assert exited.value.code == 2
    assert "-5 trucks: give 1 or more" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["up", "--speedup", "-1"], "--speedup -1: give 0 (no pacing) or more"),
        (["up", "--speedup", "nan"], "--speedup nan: give 0 (no pacing) or more"),
        (["up", "--speedup", "fast"], "'fast' is not a number"),
        (["simulate-traffic", "--speedup", "-60"], "--speedup -60: give 0 (no pacing) or more"),
        (["up", "--anomalies", "2"], "--anomalies 2: a share, from 0 to 1"),
        (["up", "--anomalies", "-0.1"], "--anomalies -0.1: a share, from 0 to 1"),
        (["xborder", "demo", "--speedup", "0"], "--speedup 0: give a number above 0"),
        (["xborder", "demo", "--speedup", "-5"], "--speedup -5: give a number above 0"),
        (["xborder", "demo", "--speedup", "inf"], "--speedup inf: give a number above 0"),
        (["xborder", "demo", "--trucks", "0"], "0 trucks: give 1 or more"),
    ],
)
def test_up_refuses_a_speedup_or_share_it_cannot_run(
    args: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by a stranger's try: `borderflow up --anomalies 2` (or `--speedup -1`) started
    the broker, the database and the API, then stopped with the simulator's traceback
    (ValueError: anomaly rate must be in [0, 1]); `--speedup nan` ran unpaced. The two
    sides' demo ran with its clock frozen (0) or backwards (-5: a flood of messages)."""
    with pytest.raises(SystemExit) as exited:
        cli_main(args)
    assert exited.value.code == 2
    assert said in capsys.readouterr().err
