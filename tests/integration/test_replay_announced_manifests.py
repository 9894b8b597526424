"""A replay reads the manifest versions as they were stored and used live, not through the
intake's rules again (found by a stranger's try, 2026-12-06: a pre-arrival notice from
China with a container whose ISO 6346 check digit is wrong, MSCU1234565, was applied and
stored as an announced manifest (the wire refuses it since c7b44d9; the database may hold
those stored before), which the live decider used; every replay of a range after
it then ended in a pydantic ValidationError traceback, ManifestV1 refusing the stored
version). Likewise a notice whose booked slot ends more than 7 days after it (a window the
intake refuses)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.crossings import Side
from lanes.model import Direction
from services.db.engine import session_factory
from services.gates.loader import default_gates
from services.replay.inputs import manifest_versions
from services.xborder.prior import Prior
from streams.xborder import PreArrivalNoticeV1

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def _notice(n: int, **fields: object) -> PreArrivalNoticeV1:
    return PreArrivalNoticeV1.model_validate(
        {
            "message_id": f"CN:n-{n}",
            "sender": Side.CN,
            "sequence": n,
            "event_time": T0,
            "crossing_id": f"CN:youyiguan:M{n}",
            "from_gate": "youyiguan",
            "to_gate": "huu-nghi",
            "direction": Direction.IMPORT,
            "tractor_plate": f"桂B·5432{n}",
            **fields,
        }
    )


async def test_a_replay_reads_announced_manifests_the_intake_would_refuse(
    engine: AsyncEngine,
) -> None:
    late_slot = T0 + timedelta(days=8)
    notices = [
        # check digit 6: refused on the wire since c7b44d9, but stored before then (an
        # unvalidated copy stands for the notice an earlier version applied)
        _notice(1, containers=["MSCU1234566"]).model_copy(update={"containers": ["MSCU1234565"]}),
        _notice(2, booked_slot_start=late_slot, booked_slot_end=late_slot + timedelta(hours=1)),
    ]
    prior = Prior(default_gates())
    async with session_factory(engine)() as session, session.begin():
        for notice in notices:
            assert (await prior.apply(session, notice, now=T0)).manifest_id is not None
    async with session_factory(engine)() as session:
        versions = {
            v.manifest.manifest_id: v.manifest for v in await manifest_versions(session=session)
        }
    assert versions["xb-CN:youyiguan:M1"].containers == ("MSCU1234565",)
    assert versions["xb-CN:youyiguan:M2"].window_end == late_slot + timedelta(hours=7)
    assert versions["xb-CN:youyiguan:M1"].firm_id == "xborder-cn"
