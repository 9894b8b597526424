"""China's clock hours off on every fact it sends (found 2026-12-06), through the control
room's API on SQLite and PostgreSQL. Until then the alerts' clock was the second latest
crossing time as stamped: 3 h ahead, China's facts carried it 3 h on and every Vietnamese
truck still on the road showed overdue; 2 h behind, every Chinese truck showed overdue
as soon as it left. Now the skew is estimated from the trucks that crossed both ways,
raised as a `clock_skew` alert, and each truck judged on the clock of the side it left
(lanes.crossing_clocks)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.crossings import Side
from services.xborder import store as xstore
from streams.xborder_local import LocalCrossingEventV1
from tests.integration.test_xborder_clock import T0, Vietnam

pytestmark = pytest.mark.integration


def _minutes(m: int) -> datetime:
    return T0 + timedelta(minutes=m)


async def _entry_here(vn: Vietnam, name: str, at: datetime) -> None:
    """Huu Nghi's entry camera reads China's truck CN-<name>: its own entry, sent over."""
    event = LocalCrossingEventV1(
        event_id=f"entry-{name}",
        kind="entry",
        at=at,
        crossing_id=f"CN-{name}",
        gate_id="huu-nghi",
        tractor_plate="GUIA12345",
    )
    async with vn.sessions() as session, session.begin():
        await xstore.take_local(session, event, me=Side.VN, sign=vn._sign, now=T0)


async def _morning(vn: Vietnam, china: timedelta) -> None:
    """From 08:00 a truck leaves each side every 10 minutes (VN's at :00, CN's at :05) and
    enters the other 25 minutes later; VN-x0 and CN-c0 never arrive. China stamps its
    facts (its exits, its entries of VN's trucks) `china` off. The last facts: 09:30."""
    for n in range(10):
        await vn.exit(n, _minutes(10 * n))
        if n >= 1:
            await vn.from_china(vn.china_exit(f"c{n - 1}", _minutes(10 * n - 5) + china))
        if n >= 4:  # VN-x(n-3) and CN-c(n-3) enter as VN-x(n) leaves
            await vn.from_china(vn.entry(n - 3, _minutes(10 * n - 5) + china))
            if n - 3 != 0:
                await _entry_here(vn, f"c{n - 3}", _minutes(10 * n))


@pytest.mark.parametrize(
    ("hours", "way"),
    [(3, "ahead of"), (-2, "behind")],
)
async def test_a_chinese_clock_hours_off_is_told_and_times_no_truck_of_the_other_side(
    engine: AsyncEngine, hours: int, way: str
) -> None:
    vn = Vietnam(engine)
    china = timedelta(hours=hours)
    await _morning(vn, china)
    body = await vn.state()
    # this side's clock: the facts of 09:30 and 09:25 on Huu Nghi's clock, not China's
    assert _minutes(85) <= datetime.fromisoformat(body["gate_clock"]) <= _minutes(90)
    alerts = {(a["kind"], a["crossing_id"]): a for a in body["alerts"]}
    # the two trucks truly late (left at 08:00 and 08:05), and the skew: no truck on the
    # road (VN-x7..x9, CN-c7, c8) is overdue, on either clock
    assert set(alerts) == {
        ("overdue", "VN-x0"),
        ("overdue", "CN-c0"),
        ("clock_skew", ""),
    }, sorted(alerts)
    told = alerts[("clock_skew", "")]
    assert told["alert_id"] == f"clock_skew:CN-{'ahead' if hours > 0 else 'behind'}"
    assert told["explanation"].startswith(f"CN's clock appears {abs(hours)} h 00 min {way}")
    assert told["evidence"]["offset_minutes"] == str(60 * hours)
    late = alerts[("overdue", "CN-c0")]
    assert "after 85 min" in late["explanation"]  # on China's clock, as China left it
    assert "on CN's clock, the second latest crossing time with VN's" in late["explanation"]
