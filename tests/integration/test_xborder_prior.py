"""The other side's notice as a prior (services/xborder/prior.py): an announced manifest is
made only for a truck this side can expect, at one of its gates, with a plate to match."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.crossings import Side
from lanes.model import Direction
from services.db.engine import session_factory
from services.db.tables import ManifestRow
from services.gates.loader import default_gates
from services.xborder.prior import Prior
from streams.xborder import PreArrivalNoticeV1

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def _notice(n: int, *, to_gate: str = "huu-nghi", plate: str = "桂B·54321") -> PreArrivalNoticeV1:
    return PreArrivalNoticeV1(
        message_id=f"CN:n-{n}",
        sender=Side.CN,
        sequence=n,
        event_time=T0,
        crossing_id=f"CN:youyiguan:M{n}",
        from_gate="youyiguan",
        to_gate=to_gate,
        direction=Direction.IMPORT,
        tractor_plate=plate,
    )


async def test_no_announced_manifest_for_another_gate_or_a_plate_with_no_text(
    engine: AsyncEngine,
) -> None:
    """Found by a stranger's try, sending what the other side might: a notice for a gate
    this side does not run (`mong-cai`) made an announced manifest here all the same, and
    one whose plate is no text once normalised (`??`) made a manifest with an empty tractor
    plate. The notice itself still applies (its crossing is recorded by the caller)."""
    prior = Prior(default_gates())
    async with session_factory(engine)() as session, session.begin():
        kept = await prior.apply(session, _notice(1), now=T0)
        elsewhere = await prior.apply(session, _notice(2, to_gate="mong-cai"), now=T0)
        no_text = await prior.apply(session, _notice(3, plate="??"), now=T0)
    assert kept.manifest_id == "xb-CN:youyiguan:M1"
    assert elsewhere.manifest_id is None and elsewhere.booking_id is None
    assert no_text.manifest_id is None and no_text.booking_id is None
    async with session_factory(engine)() as session:
        stored = (await session.scalars(select(ManifestRow.manifest_id))).all()
    assert stored == ["xb-CN:youyiguan:M1"]
