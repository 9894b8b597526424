"""The other side's wrong date does not poison this side's overdue alerts (found
2026-12-05): a peer's exit dated 2030 moved Huu Nghi's gate clock to 2030-12-06, every truck
in transit showed overdue 'after 2103905 min', and every later exit was overdue at once, for
good. Now the alerts are reckoned at a clock two crossings confirm
(lanes.crossings.crossings_clock): the wrong exit is recorded (it takes its place, the link
goes on), the clock stays the morning's, and the controllers are told of the date (a
`dated_ahead` alert). A Chinese clock a few minutes off is accepted and
moves the clock by those minutes at most. Through the control room's API, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lanes.crossings import ExitMode, Side
from lanes.model import Direction
from services.db.engine import session_factory
from services.xborder import store as xstore
from streams.xborder import EntryEventV1, ExitEventV1, outgoing_payload
from streams.xborder_local import LocalCrossingEventV1
from streams.xborder_sign import SigningKey, sign
from tests.integration.xborder_harness import control_room_state

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
WRONG = datetime(2030, 12, 6, 9, 0, tzinfo=UTC)
VN = SigningKey.generate("vn-1", Side.VN)
CN = SigningKey.generate("cn-1", Side.CN)


class Vietnam:
    """Huu Nghi's side of the link, fed as its link worker feeds it: its own exits taken,
    China's messages applied in China's sequence."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.sessions = session_factory(engine)
        self.sequence = 0

    async def exit(self, n: int, at: datetime) -> None:
        event = LocalCrossingEventV1(
            event_id=f"exit-{n}",
            kind="exit",
            at=at,
            crossing_id=f"VN-x{n}",
            gate_id="huu-nghi",
            peer_gate_id="youyiguan",
            direction=Direction.EXPORT,
            tractor_plate=f"29H1000{n}",
            mode=ExitMode.ROAD,
        )
        async with self.sessions() as session, session.begin():
            await xstore.take_local(session, event, me=Side.VN, sign=self._sign, now=T0)

    async def from_china(self, message: ExitEventV1 | EntryEventV1) -> str:
        async with self.sessions() as session, session.begin():
            await xstore.ensure_counters(session, me=Side.VN)
            applied = await xstore.apply_received(
                session,
                message,
                key_id=CN.key_id,
                payload=outgoing_payload(message),
                me=Side.VN,
                sign=self._sign,
                now=T0,
            )
        return applied.status

    def _next(self) -> int:
        self.sequence += 1
        return self.sequence

    def entry(self, n: int, at: datetime) -> EntryEventV1:
        return EntryEventV1(
            message_id=f"CN:entry-{n}",
            sender=Side.CN,
            sequence=self._next(),
            event_time=at,
            crossing_id=f"VN-x{n}",
            gate_id="youyiguan",
            tractor_plate=f"29H1000{n}",
        )

    def china_exit(self, name: str, at: datetime) -> ExitEventV1:
        return ExitEventV1(
            message_id=f"CN:exit-{name}",
            sender=Side.CN,
            sequence=self._next(),
            event_time=at,
            crossing_id=f"CN-{name}",
            from_gate="youyiguan",
            to_gate="huu-nghi",
            direction=Direction.IMPORT,  # the corridor's: China -> Vietnam
            tractor_plate="GUIA12345",
            mode=ExitMode.ROAD,
        )

    @staticmethod
    def _sign(message: Any) -> bytes:
        return sign(message, VN)

    async def state(self) -> dict[str, Any]:
        return await control_room_state(self.sessions)


def _minutes(m: int) -> datetime:
    return T0 + timedelta(minutes=m)


async def _morning(vn: Vietnam, *, china_skew: timedelta, wrong_exit: bool) -> list[str]:
    """Trucks VN-x0..x9 leave Huu Nghi every 10 minutes from 08:00; China reports each
    entering 25 minutes after it left (its clock `china_skew` off), except VN-x0, which never
    arrives, and VN-x7, x8, x9, still on the road when VN-x9 leaves at 09:30. With
    `wrong_exit`, China's exit dated 2030 comes after the second entry. What became of each
    of China's messages."""
    statuses = []
    for n in range(10):
        await vn.exit(n, _minutes(10 * n))
        entered = 10 * (n - 3) + 25  # VN-x(n-3) enters as VN-x(n) leaves, and a little later
        if n >= 4:
            statuses.append(await vn.from_china(vn.entry(n - 3, _minutes(entered) + china_skew)))
        if n == 5 and wrong_exit:
            statuses.append(await vn.from_china(vn.china_exit("2030", WRONG)))
    return statuses


async def test_a_date_years_ahead_from_the_other_side_raises_no_false_overdue_alert(
    engine: AsyncEngine,
) -> None:
    vn = Vietnam(engine)
    statuses = await _morning(vn, china_skew=timedelta(0), wrong_exit=True)
    assert statuses == ["applied"] * 7  # contained, not stalled: what followed it applied
    body = await vn.state()
    assert body["link"]["last_received"] == 7
    # the latest crossing but the one dated 2030: VN-x9 left at 09:30
    assert datetime.fromisoformat(body["gate_clock"]) == _minutes(90)
    alerts = [(a["kind"], a["crossing_id"]) for a in body["alerts"]]
    # the one truck that never arrived, truly late; and China's date, for the controllers
    assert alerts == [("overdue", "VN-x0"), ("dated_ahead", "CN-2030")]
    assert "after 90 min" in body["alerts"][0]["explanation"]
    wrong = body["alerts"][1]
    assert wrong["explanation"].startswith(
        "exit at 2030-12-06 16:00 (UTC+07:00) from CN is 1462.0 days after the gate clock "
        "(2026-12-05 "
    )  # on the gate's clock with its zone, as every alert's explanation (ISO in the evidence)
    assert wrong["evidence"]["exit_at"] == "2030-12-06T09:00:00+00:00"
    assert wrong["evidence"]["exit_message_id"] == "CN:exit-2030"
    shown = {c["crossing_id"]: c["state"] for c in body["crossings"]}
    assert shown["CN-2030"] == "in_transit"  # recorded as China reported it, for the record
    assert shown["VN-x7"] == shown["VN-x8"] == shown["VN-x9"] == "in_transit"


@pytest.mark.parametrize("minutes", [-5, 5])
async def test_a_chinese_clock_minutes_off_is_accepted_and_moves_the_alerts_by_those_minutes(
    engine: AsyncEngine, minutes: int
) -> None:
    vn = Vietnam(engine)
    skew = timedelta(minutes=minutes)
    assert await _morning(vn, china_skew=skew, wrong_exit=False) == ["applied"] * 6
    body = await vn.state()
    clock = datetime.fromisoformat(body["gate_clock"])
    # VN-x9 left at 09:30, VN-x6 entered at 09:25 by the true clock: the second latest
    assert abs(clock - _minutes(85)) <= abs(skew)
    assert [(a["kind"], a["crossing_id"]) for a in body["alerts"]] == [("overdue", "VN-x0")]
