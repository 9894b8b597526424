"""The calls' outbox (services/adapters/call_outbox.py) on the in-memory store: a call
drained from the outbox (after a failed send, a crash, a broker that came back empty) is
the very record the desk's calls were sent as before 2026-12-06 (`borderflow.calls`' contract:
same value, headers and key, byte for byte), in the order decided, and sent once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from lanes.board import Board, Truck
from lanes.model import BookingStatus, CargoClass, CustomsChannel, Direction
from lanes.policy.callforward import CallEvent
from services.adapters.call_outbox import CallOutbox
from services.adapters.memory_callforward import MemoryCallForward
from services.drivers.desk import CallForwardDesk
from services.gates.loader import get_gate
from streams.calls import CallEventV1, call_to_wire, encode_call

HN = get_gate("huu-nghi")
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=7)))  # a camera's offset
MIN = timedelta(minutes=1)
WALL = datetime(2030, 1, 1, tzinfo=UTC)

Record = tuple[bytes, bytes, list[tuple[str, bytes]]]


def record(call: CallEventV1) -> Record:
    value, headers = encode_call(call)
    return call.visit_id.encode(), value, headers


async def decided() -> list[CallEvent]:
    """Two calls, a recall and a lost place, as the desk decides them."""
    desk = CallForwardDesk(gate=HN, board=Board.for_gate(HN))
    events: list[CallEvent] = []
    for n in (1, 2):
        truck = Truck(
            visit_id=f"v-{n}",
            direction=Direction.EXPORT,
            arrived_at=T0,
            channel=CustomsChannel.GREEN,
            cargo=frozenset({CargoClass.GENERAL}),
            containers=0,
            booking=BookingStatus.WALK_IN,
        )
        events += await desk.entered(truck, at=T0 + n * MIN)
    events += await desk.reached_gate("v-2", at=T0 + 6 * MIN)
    events += await desk.step(now=T0 + 16 * MIN)
    events += await desk.step(now=T0 + 31 * MIN)
    return events


async def test_a_call_drained_from_the_outbox_is_the_record_sent_at_once() -> None:
    events = await decided()
    wanted = [record(call_to_wire(e)) for e in events]
    assert [w[1].count(b"+07:00") > 0 for w in wanted] == [True] * 4  # offsets kept
    data = MemoryCallForward()
    async with data.stores()() as store:
        await store.add_calls(events, now=WALL)
        await store.add_calls(events[:1], now=WALL)  # a call id already there: not again
    sent: list[Record] = []

    async def publish(call: CallEventV1) -> None:
        sent.append(record(call))

    outbox = CallOutbox(stores=data.stores(), publish=publish)
    assert await outbox.drain() == 4
    assert sent == wanted
    assert await outbox.drain() == 0 and len(sent) == 4  # marked: not again
    assert all(at is not None for _, at in data.calls.values())

    await outbox.republish_since(T0)  # the broker came back empty (marked since: all)
    assert await outbox.drain() == 4
    assert sent == wanted + wanted
