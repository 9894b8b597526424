"""Call-forward's own window for an area read after its truck's gate read (`WaitingArea.reentry`,
the gate file's `reentry_min`): an area read of a truck sooner than that after its read at
the gate is of the truck that left, not a new arrival, whichever of the two reads is handled
first (reads of different cameras come on different partitions). On the in-memory adapter."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from services.adapters.call_outbox import CallOutbox
from services.adapters.memory_callforward import MemoryCallForward
from services.drivers.desk import desk_maker
from services.service_layer.callforward import GateTime, StepWaitingAreas, StepWaitingAreasHandler
from streams.calls import CallEventV1
from tests.unit.test_callforward_handlers import (
    AREA,
    GATE_IN,
    GATES,
    MIN,
    T0,
    WALL,
    handler,
    manifest,
    step,
)


def handler_on(
    data: MemoryCallForward, sent: list[CallEventV1], **gate: object
) -> StepWaitingAreasHandler:
    """The handler on Huu Nghi's gate file with `gate`'s fields changed (`reentry`: its
    export area's)."""
    huu_nghi = GATES["huu-nghi"]
    reentry = gate.pop("reentry", None)
    if reentry is not None:
        areas = tuple(replace(a, reentry=reentry) for a in huu_nghi.waiting_areas)
        gate["waiting_areas"] = areas
    changed = replace(huu_nghi, **gate)  # type: ignore[arg-type]

    async def publish(call: CallEventV1) -> None:
        sent.append(call)

    return StepWaitingAreasHandler(
        uow=data.stores(),
        gates={"huu-nghi": changed},
        new_desk=desk_maker(b"unit test"),
        calls=CallOutbox(stores=data.stores(), publish=publish),
    )


async def test_the_window_is_call_forwards_own_not_the_deciders_visit_window() -> None:
    """Gate read 10:05, area read 10:08. The packaged 10 minutes: not queued, whatever the
    decider's visit window (2 minutes here; before, call-forward took that one and called
    the truck). The area's own window at 2 minutes: a new arrival, queued and called."""
    for gate, calls in (
        ({}, []),
        ({"visit_window": 2 * MIN}, []),
        ({"reentry": 2 * MIN}, ["wa-r-2/call-1"]),
    ):
        data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
        sent: list[CallEventV1] = []
        step_areas = handler_on(data, sent, **gate)
        await step_areas(step(("r-1", GATE_IN, "29C11111", T0 + 5 * MIN)))
        await step_areas(step(("r-2", AREA, "29C11111", T0 + 8 * MIN)))
        assert [c.call_id for c in sent] == calls, gate


def test_the_packaged_areas_keep_ten_minutes() -> None:
    assert {a.reentry for a in GATES["huu-nghi"].waiting_areas} == {10 * MIN}


async def _both(
    order: str, gate_at: datetime, area_at: datetime, *, restart: bool = False
) -> tuple[MemoryCallForward, list[str], list[str]]:
    """CF-1's truck read at the gate (r-1) and at the area (r-2), in two batches in `order`,
    then a lane event 40 minutes on (a recall or a lost place would be out by then): the data,
    the calls sent before the second read was handled and those sent after it. `restart`:
    the second read handled by a handler made afresh (the queue from the store)."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    sent: list[CallEventV1] = []
    step_areas = handler(data, sent)
    gate, area = (
        step(("r-1", GATE_IN, "29C11111", gate_at)),
        step(("r-2", AREA, "29C11111", area_at)),
    )
    first, second = (gate, area) if order == "gate first" else (area, gate)
    await step_areas(first)
    before = [c.call_id for c in sent]
    if restart:
        step_areas = handler(data, sent)
    await step_areas(second)
    later = GateTime("le-1", "huu-nghi", T0 + 40 * MIN)
    await step_areas(StepWaitingAreas((), received_at=WALL, gate_times=(later,)))
    return data, before, [c.call_id for c in sent][len(before) :]


@pytest.mark.parametrize("restart", [False, True], ids=["same", "restarted"])
@pytest.mark.parametrize("order", ["gate first", "area first"])
async def test_an_area_read_after_the_gate_read_is_the_truck_that_left_in_either_order(
    order: str, restart: bool
) -> None:
    """Gate read 10:05, area read 10:07 (within the area's reentry): the truck had left the
    area. Read in event order, it is never queued nor called. Its area read handled first,
    it is queued and called then (nothing yet says it passed the gate: that call is out);
    once the gate read is handled the queue, the time it reached the gate and what the gate's
    decider is told are as in event order: not queued, reached at 10:05, no call held for it,
    nothing more sent (no recall, no lost place), its page at the gate since 10:05. Before,
    the late gate read was the queued truck reaching the gate at 10:07: its call kept for the
    decider as the truck's, its page 'reached at 10:07'."""
    data, before, after = await _both(order, T0 + 5 * MIN, T0 + 7 * MIN, restart=restart)
    saved = data.queues["huu-nghi"]
    assert saved.queue.waiting == ()
    assert dict(saved.reached) == {"CF-1": T0 + 5 * MIN}
    assert data.called.get("huu-nghi", {}) == {}
    assert after == []
    if order == "gate first":
        assert (before, data.pages) == ([], {})
    else:
        assert before == ["wa-r-2/call-1"]
        assert data.pages["wa-r-2"]["reached_at"] == "2026-11-24T10:05:00+07:00"


@pytest.mark.parametrize("order", ["gate first", "area first"])
async def test_a_gate_read_of_an_earlier_trip_handled_late_leaves_the_new_arrival_queued(
    order: str,
) -> None:
    """Gate read 10:05, area read 10:20 (past the reentry: the truck drove out and came
    back). In either order the truck is queued at 10:20 and called once. Before, the gate
    read handled after the area read was the truck reaching the gate: it left the queue
    while it waited in the area."""
    data, before, after = await _both(order, T0 + 5 * MIN, T0 + 20 * MIN)
    saved = data.queues["huu-nghi"]
    assert [w.truck.visit_id for w in saved.queue.waiting] == ["wa-r-2"]
    assert dict(saved.reached) == {"CF-1": T0 + 5 * MIN}
    assert [*before, *after][:1] == ["wa-r-2/call-1"]
    assert set(data.called["huu-nghi"]) == {"CF-1"}
