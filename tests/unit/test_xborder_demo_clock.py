"""`borderflow xborder demo` prints its gate clock on each gate's own clock (the gate files'
offsets, Huu Nghi +07:00 and Youyiguan +08:00), not in UTC: on new year's eve at 22:42 UTC
both gates are in the new year, and the demo said `gate clock 2027-12-31T22:42+00:00`, a
day and a year behind them. The demo's clock is pinned (its start, standing still), so
neither today's date nor the machine's zone matter."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from services.runtime.settings import Settings
from services.xborder.demo import Demo


def _first_line(at: datetime) -> str:
    demo = Demo(Settings(), trucks=10, speedup=0.0, seed=1)
    demo.start = at  # a clock standing at `at`: no side started, the report's heading alone
    return asyncio.run(demo.report()).splitlines()[0]


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Ho_Chi_Minh"])
def test_the_demo_tells_each_gates_local_time(zone: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", zone)
    assert _first_line(datetime(2027, 12, 31, 22, 42, 30, tzinfo=UTC)) == (
        "gate clock huu-nghi 2028-01-01 05:42 (UTC+07:00), youyiguan 2028-01-01 06:42 (UTC+08:00)"
    )


def test_a_leap_day_on_the_gates_clock() -> None:
    assert _first_line(datetime(2028, 2, 28, 16, 30, tzinfo=UTC)) == (
        "gate clock huu-nghi 2028-02-28 23:30 (UTC+07:00), youyiguan 2028-02-29 00:30 (UTC+08:00)"
    )
