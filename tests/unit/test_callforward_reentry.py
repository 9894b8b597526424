"""Call-forward's own window for an area read after its truck's gate read (`WaitingArea.reentry`,
the gate file's `reentry_min`): an area read of a truck sooner than that after its read at
the gate is of the truck that left, not a new arrival. On the in-memory adapter."""

from __future__ import annotations

from dataclasses import replace

from services.adapters.call_outbox import CallOutbox
from services.adapters.memory_callforward import MemoryCallForward
from services.drivers.desk import desk_maker
from services.service_layer.callforward import StepWaitingAreasHandler
from streams.calls import CallEventV1
from tests.unit.test_callforward_handlers import AREA, GATE_IN, GATES, MIN, T0, manifest, step


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
