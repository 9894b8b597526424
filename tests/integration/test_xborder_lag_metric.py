"""The link's lag while the other side's broker is down (found 2026-12-06 by a stranger
running China's side against `borderflow xborder link`): `borderflow_xborder_pending` and
`borderflow_xborder_lag_seconds` were set only after a send that went through, so with the
other side's broker stopped they stayed at their last value (0) for the whole outage while
the control room's `waiting` counted the messages held, and the alert docs/exchange.md
asks for ("a lag above a few minutes") could never fire while the link was down. On SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.xborder import metrics
from streams import clock
from streams.metrics import REGISTRY
from tests.integration.test_xborder_clock import CN, T0, VN, Vietnam
from tests.integration.test_xborder_resend import _link

pytestmark = pytest.mark.integration


def _gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"side": "VN"})


async def test_the_lag_shows_while_the_other_sides_broker_is_down(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    vn = Vietnam(engine)
    await vn.exit(1, T0)  # stored at T0, never taken: nothing listens on the peer's port
    await vn.exit(2, T0)
    monkeypatch.setattr(clock, "wall_clock", lambda: T0 + timedelta(minutes=10))
    metrics.PENDING.labels("VN").set(-1)  # whatever another test left there
    metrics.LAG_SECONDS.labels("VN").set(-1)
    link = _link(engine, VN, CN)  # its broker, 127.0.0.1:1, refuses every connection
    stop = asyncio.Event()
    forwarder = asyncio.create_task(link.forward(stop))
    try:
        for _ in range(300):  # up to 30 s
            if _gauge("borderflow_xborder_pending") == 2 or forwarder.done():
                break
            await asyncio.sleep(0.1)
        assert link.stats["send_failures"] >= 1
        assert _gauge("borderflow_xborder_pending") == 2
        assert _gauge("borderflow_xborder_lag_seconds") == 600
    finally:
        stop.set()
        await asyncio.wait_for(forwarder, timeout=30)
