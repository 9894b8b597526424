"""The other side's notice as a prior (services/xborder/prior.py): an announced manifest is
made only for a truck this side can expect, at one of its gates, with a plate to match."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.crossings import Side
from lanes.model import Direction
from services.db.booking_tables import BookingRow
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


def _slotted(n: int, message: str, start_hour: int) -> PreArrivalNoticeV1:
    """China's notice `message` of crossing M`n`, its truck booked at Huu Nghi from
    `start_hour`:00 local (UTC+07:00) for the gate's hour."""
    local = timezone(timedelta(hours=7))
    start = datetime(2026, 11, 24, start_hour, 0, tzinfo=local)
    return _notice(n).model_copy(
        update={
            "message_id": message,
            "booked_slot_start": start,
            "booked_slot_end": start + timedelta(hours=1),
        }
    )


async def test_a_corrected_notice_moves_the_booking_to_its_slot(engine: AsyncEngine) -> None:
    """Found 2026-12-06 by a stranger sending China's notices by hand: a notice of crossing
    M1 booked 16:00 local; China's correction (a new message id, as docs/exchange.md asks
    of a correction) names 17:00. The crossing recorded 17:00, but the booking stayed at
    16:00, in silence: a place held that the truck will not use (a no-show), none at its
    hour. Now the booking is moved to the corrected slot (the same booking, rescheduled by
    the booking use case); the same slot again changes nothing; a slot the booking rules
    refuse then (one starting now) leaves the booking where it was, logged."""
    prior = Prior(default_gates())
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        first = await prior.apply(session, _slotted(1, "CN:n-1", 16), now=T0)
    async with sessions() as session, session.begin():
        corrected = await prior.apply(session, _slotted(1, "CN:n-1b", 17), now=T0)
    async with sessions() as session, session.begin():
        again = await prior.apply(session, _slotted(1, "CN:n-1c", 17), now=T0)
    async with sessions() as session, session.begin():  # 08:00 local is now: not bookable
        too_late = await prior.apply(session, _slotted(1, "CN:n-1d", 8), now=T0)
    assert first.booking_id is not None
    assert corrected.booking_id == again.booking_id == first.booking_id
    assert corrected.refused is None
    assert too_late.booking_id == first.booking_id  # refused: the booking stays where it was
    assert too_late.refused is not None and "starts in the past" in too_late.refused
    async with sessions() as session:
        rows = (await session.scalars(select(BookingRow))).all()
    assert [(r.status, r.slot_start.replace(tzinfo=UTC)) for r in rows] == [
        ("active", datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # 17:00 local
    ]
