"""Call-forward's use case (services/service_layer/callforward.py) on the in-memory
adapter, with the live desk (services/drivers/desk.py) publishing to a list: no database,
no broker. The same handler runs on the database behind the plate-reads consumer
(tests/integration/test_callforward_worker.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import ConsumerRecord

from lanes.model import CustomsStatus, Direction, Manifest, PlateRead
from services.adapters.call_outbox import CallOutbox
from services.adapters.memory_callforward import MemoryCallForward
from services.drivers.desk import desk_maker
from services.gates.loader import default_gates
from services.ports import ArrivingBooking, CallForwardStore, CallForwardStores
from services.service_layer.callforward import (
    BookingCancelled,
    CheckedIn,
    GateTime,
    StepWaitingAreas,
    StepWaitingAreasHandler,
)
from services.workers.callforward import CallForwardWorker, Malformed, OutOfClock
from services.workers.orchestrator import LaneEventHandler
from streams.calls import CallEventV1
from streams.errors import InvalidEvent
from streams.lane_events import LaneEventV1
from streams.runtime import Inbound
from streams.topics import BOOKINGS, LANE_EVENTS, PLATE_READS

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 10:00 at the gate (+07:00): lanes open
MIN = timedelta(minutes=1)
WALL = datetime(2030, 1, 1, tzinfo=UTC)  # the servers' clock: kept, never decides
GATES = default_gates()
AREA, GATE_IN = "hn-exp-approach-1", "hn-exp-gate-1"


def manifest(manifest_id: str, plate: str, **fields: object) -> Manifest:
    return Manifest(
        manifest_id=manifest_id,
        firm_id="firm-a",
        direction=Direction.EXPORT,
        tractor_plate=plate,
        **fields,  # type: ignore[arg-type]
    )


def step(*reads: tuple[str, str, str, datetime]) -> StepWaitingAreas:
    """Reads as (event id, camera, plate text, captured at), read with confidence 0.9."""
    return StepWaitingAreas(
        tuple(PlateRead(e, camera, at, text, 0.9) for e, camera, text, at in reads),
        received_at=WALL,
    )


def commit_refused_once(stores: CallForwardStores) -> CallForwardStores:
    """The batch's transaction, whose first commit fails after the whole batch was done
    (the database gone, a serialization failure): it rolls back."""
    refused: list[bool] = []

    @asynccontextmanager
    async def transaction() -> AsyncIterator[CallForwardStore]:
        async with stores() as store:
            yield store
            if not refused:
                refused.append(True)
                raise RuntimeError("commit refused")

    return transaction


def handler(
    data: MemoryCallForward, sent: list[CallEventV1], *, refuse_once: bool = False
) -> StepWaitingAreasHandler:
    async def publish(call: CallEventV1) -> None:
        sent.append(call)

    return StepWaitingAreasHandler(
        uow=commit_refused_once(data.stores()) if refuse_once else data.stores(),
        gates=GATES,
        new_desk=desk_maker(b"unit test"),
        calls=CallOutbox(stores=data.stores(), publish=publish),
    )


async def test_a_read_at_the_area_camera_calls_the_truck_and_keeps_its_page() -> None:
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    sent: list[CallEventV1] = []
    step_areas = handler(data, sent)

    await step_areas(step(("r-1", AREA, "29C-111.11", T0)))

    assert [(c.type, c.visit_id) for c in sent] == [("truck.called", "wa-r-1")]
    assert data.pages["wa-r-1"]["status"] == "called"  # a walk-in: its page is its visit's
    assert data.page_visits == {"wa-r-1": "wa-r-1"}
    saved = data.queues["huu-nghi"]
    assert [w.truck.visit_id for w in saved.queue.waiting] == ["wa-r-1"]
    assert (dict(saved.plates), saved.stepped_to) == ({"29C11111": "wa-r-1"}, T0)
    assert (step_areas.stats.reads, step_areas.stats.entered) == (1, 1)


async def test_a_booked_truck_has_the_bookings_page() -> None:
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    data.bookings[("huu-nghi", "CF-1")] = ArrivingBooking(
        booking_id="bk-1", page_key="booking:bk-1", slot_start=T0, slot_end=T0 + 60 * MIN
    )

    await handler(data, [])(step(("r-1", AREA, "29C11111", T0)))

    assert data.page_visits == {"booking:bk-1": "wa-r-1"}
    assert dict(data.queues["huu-nghi"].pages) == {"wa-r-1": "booking:bk-1"}


async def test_a_restarted_handler_finds_the_queue_and_the_truck_reaches_the_gate() -> None:
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    await handler(data, [])(step(("r-1", AREA, "29C11111", T0)))

    again = handler(data, [])  # a restart: the queue comes back from the store
    await again(step(("r-2", GATE_IN, "29C11111", T0 + 5 * MIN)))

    assert again.stats.at_gate == 1
    # when, at the gate's offset: opened again the next day, the page says when it was
    assert data.pages["wa-r-1"] == {
        "status": "at_gate",
        "reached_at": "2026-11-24T10:05:00+07:00",
        "zone": "UTC+07:00",
    }
    assert data.queues["huu-nghi"].queue.waiting == ()
    assert data.queues["huu-nghi"].stepped_to == T0 + 5 * MIN


async def test_a_failed_batch_publishes_nothing_and_leaves_nothing_for_the_next() -> None:
    """A batch whose commit fails after the desk queued and called a truck publishes no
    call, and leaves no queue in memory: the next batch (another truck's; the runtime
    dead-letters a record that fails alone, and its redrive queues it later) saves a queue
    without the first truck. Before, its call was out, and the next batch stepped the desk
    the failed one had left and saved the first truck as queued and called."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111"), manifest("CF-2", "29C22222")])
    sent: list[CallEventV1] = []
    step_areas = handler(data, sent, refuse_once=True)

    with pytest.raises(RuntimeError, match="commit refused"):
        await step_areas(step(("r-1", AREA, "29C11111", T0)))
    assert (sent, data.queues, data.calls, data.pages) == ([], {}, {}, {})

    await step_areas(step(("r-2", AREA, "29C22222", T0 + MIN)))
    assert [w.truck.visit_id for w in data.queues["huu-nghi"].queue.waiting] == ["wa-r-2"]
    assert [(c.type, c.visit_id) for c in sent] == [("truck.called", "wa-r-2")]
    assert list(data.calls) == ["wa-r-2/call-1"] and set(data.pages) == {"wa-r-2"}
    assert (step_areas.stats.reads, step_areas.stats.entered) == (1, 1)


async def test_a_batch_stepped_again_sends_no_call_twice() -> None:
    """A committed batch redelivered (its offsets not committed: the broker away, a crash)
    is stepped again: the truck enters, is called and reaches the gate again, its call
    decided again under the same call id. The outbox has that id: not sent again (before,
    the desk published it a second time)."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    sent: list[CallEventV1] = []
    step_areas = handler(data, sent)
    batch = step(("r-1", AREA, "29C11111", T0), ("r-2", GATE_IN, "29C11111", T0 + 5 * MIN))
    await step_areas(batch)
    await step_areas(batch)
    assert [c.call_id for c in sent] == ["wa-r-1/call-1"]


@pytest.mark.parametrize("restart", [False, True], ids=["same", "restarted"])
@pytest.mark.parametrize("late", [-4 * MIN, 3 * MIN], ids=["before", "after"])
async def test_an_area_read_taken_after_its_truck_reached_the_gate_queues_it_no_more(
    late: timedelta, restart: bool
) -> None:
    """The truck is read at the area at 10:00, called, read at the gate at 10:05; then an
    area read of it is handled (its camera's partition behind the gate camera's), captured
    before the gate read (the truck still in the area) or a little after (within the gate's
    visit window: the same visit, as the decider groups it), and a check-in of its booking
    at that time. The truck is not queued, nor called, again. Before: queued as wa-r-3 and
    called wa-r-3/call-1 (and wa-ev-1/call-1), calls for a truck at the gate. The time it
    reached the gate is kept with the queue (a restart too)."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    sent: list[CallEventV1] = []
    step_areas = handler(data, sent)
    reached = T0 + 5 * MIN
    await step_areas(step(("r-1", AREA, "29C11111", T0), ("r-2", GATE_IN, "29C11111", reached)))
    if restart:
        step_areas = handler(data, sent)

    late_read = step(("r-3", AREA, "29C-111.11", reached + late))
    check_in = CheckedIn("ev-1", "bk-1", "firm-a", "CF-1", "huu-nghi", reached + late)
    await step_areas(replace(late_read, check_ins=(check_in,)))

    assert [c.call_id for c in sent] == ["wa-r-1/call-1"]
    assert data.queues["huu-nghi"].queue.waiting == ()
    assert step_areas.stats.entered == (0 if restart else 1)


async def test_a_redelivered_batch_whose_area_read_did_not_queue_the_truck_queues_nothing() -> None:
    """The truck queued by its first area read (one batch); its second area read and its
    gate read come in the next batch, which commits and is redelivered (offsets not
    committed). Before: the second read queued it again (wa-r-2) and it was called again
    (wa-r-2/call-1)."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    sent: list[CallEventV1] = []
    step_areas = handler(data, sent)
    await step_areas(step(("r-1", AREA, "29C11111", T0)))
    batch = step(("r-2", AREA, "29C11111", T0 + MIN), ("r-3", GATE_IN, "29C11111", T0 + 5 * MIN))
    await step_areas(batch)
    await step_areas(batch)
    assert [c.call_id for c in sent] == ["wa-r-1/call-1"]
    assert data.queues["huu-nghi"].queue.waiting == ()


async def test_a_truck_back_at_the_area_after_the_visit_window_is_queued_again() -> None:
    """Hours after it reached the gate the truck is read at the area again (turned away,
    or a new crossing): whether it is its manifest's truck is the matcher's (and the
    decider's) to say, as before: queued and called under its new visit. So is a read just
    past the visit window; what the gate read is kept for is forgotten an hour behind the
    queue."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    sent: list[CallEventV1] = []
    step_areas = handler(data, sent)
    reached = T0 + 5 * MIN
    await step_areas(step(("r-1", AREA, "29C11111", T0), ("r-2", GATE_IN, "29C11111", reached)))
    assert dict(data.queues["huu-nghi"].reached) == {"CF-1": reached}

    await step_areas(step(("r-3", AREA, "29C11111", reached + 11 * MIN)))
    assert [c.call_id for c in sent] == ["wa-r-1/call-1", "wa-r-3/call-1"]
    await step_areas(step(("r-4", GATE_IN, "29C11111", reached + 15 * MIN)))
    await step_areas(step(("r-5", AREA, "29C11111", reached + 3 * 60 * MIN)))
    assert [c.call_id for c in sent][2:] == ["wa-r-5/call-1"]
    assert dict(data.queues["huu-nghi"].reached) == {}  # both reached over an hour before


async def test_a_call_not_sent_after_the_commit_goes_at_the_next_idle_step() -> None:
    """The broker refuses the send after the batch committed: the batch does not fail (the
    runtime would step it again), the call stays in the outbox, and the worker's idle step
    sends it, once."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    sent: list[CallEventV1] = []
    refused: list[str] = []

    async def publish(call: CallEventV1) -> None:
        if not refused:  # the first send
            refused.append(call.call_id)
            raise ConnectionError("broker away")
        sent.append(call)

    worker = CallForwardWorker(
        step=StepWaitingAreasHandler(
            uow=data.stores(),
            gates=GATES,
            new_desk=desk_maker(b"unit test"),
            calls=CallOutbox(stores=data.stores(), publish=publish),
        )
    )
    await worker.step(step(("r-1", AREA, "29C11111", T0)))
    assert (refused, sent, data.calls["wa-r-1/call-1"][1]) == (["wa-r-1/call-1"], [], None)
    await worker.idle()
    await worker.idle()
    assert [c.call_id for c in sent] == ["wa-r-1/call-1"]
    assert data.calls["wa-r-1/call-1"][1] is not None  # marked


async def test_a_late_read_is_taken_at_the_queues_time() -> None:
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    step_areas = handler(data, [])
    await step_areas(step(("r-1", AREA, "29C11111", T0 + 10 * MIN)))
    await step_areas(step(("r-0", AREA, "29C99999", T0)))  # no manifest: steps the queue
    assert data.queues["huu-nghi"].stepped_to == T0 + 10 * MIN


async def test_customs_pending_and_unknown_cameras_enter_no_queue() -> None:
    pending = manifest("CF-9", "29C99999", customs_status=CustomsStatus.PENDING)
    data = MemoryCallForward(manifests=[pending])
    sent: list[CallEventV1] = []
    step_areas = handler(data, sent)

    await step_areas(step(("r-1", "no-such-camera", "29C99999", T0)))
    assert (step_areas.stats.reads, data.queues) == (0, {})  # no transaction at all

    await step_areas(step(("r-2", AREA, "29C99999", T0)))
    assert sent == [] and step_areas.stats.entered == 0
    assert data.queues["huu-nghi"].queue.waiting == ()


async def test_a_misread_at_the_area_camera_queues_the_truck_the_matcher_names() -> None:
    """The decider's matcher, not an exact look-up: one digit misread (1 -> 7) still names
    CF-1's truck, which is queued under its manifest's plate; read again, misread otherwise,
    it is not queued twice."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    sent: list[CallEventV1] = []
    step_areas = handler(data, sent)

    await step_areas(step(("r-1", AREA, "29C11711", T0)))
    await step_areas(step(("r-2", AREA, "29C1111", T0 + MIN)))  # a character lost

    saved = data.queues["huu-nghi"]
    assert [w.truck.manifest_id for w in saved.queue.waiting] == ["CF-1"]
    assert dict(saved.plates) == {"29C11111": "wa-r-1"}
    assert [(c.type, c.visit_id) for c in sent] == [("truck.called", "wa-r-1")]
    assert step_areas.stats.entered == 1


async def test_a_read_two_trucks_are_too_close_for_queues_neither() -> None:
    """Two open manifests one digit apart each way from the read: ambiguous, never a guess;
    the gate's decider and its review desk take that truck."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111"), manifest("CF-2", "29C11171")])
    sent: list[CallEventV1] = []
    step_areas = handler(data, sent)

    await step_areas(step(("r-1", AREA, "29C11141", T0)))

    assert (sent, step_areas.stats.entered) == ([], 0)
    assert data.queues["huu-nghi"].queue.waiting == ()


async def test_a_misread_at_the_gate_camera_is_the_queued_truck_reaching_the_gate() -> None:
    """Before, only the exact plate counted at the gate: a truck misread there stood at the
    barrier while its call ran out, was recalled, then lost its place."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    step_areas = handler(data, [])
    await step_areas(step(("r-1", AREA, "29C11111", T0)))

    await step_areas(step(("r-x", "hn-exp-exit-1", "29C11117", T0 + 4 * MIN)))
    assert step_areas.stats.at_gate == 0  # the exit's misreads are not looked up
    await step_areas(step(("r-2", GATE_IN, "29C11117", T0 + 5 * MIN)))

    assert step_areas.stats.at_gate == 1
    assert data.pages["wa-r-1"] == {
        "status": "at_gate",
        "reached_at": "2026-11-24T10:05:00+07:00",
        "zone": "UTC+07:00",
    }
    assert data.queues["huu-nghi"].queue.waiting == ()
    assert dict(data.queues["huu-nghi"].plates) == {}


async def test_a_read_at_the_gate_of_a_truck_nobody_queued_reaches_nothing() -> None:
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111"), manifest("CF-2", "51D22222")])
    step_areas = handler(data, [])
    await step_areas(step(("r-1", AREA, "29C11111", T0)))

    await step_areas(step(("r-2", GATE_IN, "51D22222", T0 + MIN)))

    assert step_areas.stats.at_gate == 0
    assert [w.truck.manifest_id for w in data.queues["huu-nghi"].queue.waiting] == ["CF-1"]


async def test_a_booking_checked_in_queues_its_truck_once_and_it_reaches_the_gate() -> None:
    """Issue 23: "read at the waiting area's camera, or checked in with its booking". The
    check-in queues the truck at its time, with the booking's page; the area camera reading
    it afterwards does not queue it again; its read at the gate is it reaching the gate."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    data.bookings[("huu-nghi", "CF-1")] = ArrivingBooking(
        booking_id="bk-1", page_key="booking:bk-1", slot_start=T0, slot_end=T0 + 60 * MIN
    )
    sent: list[CallEventV1] = []
    step_areas = handler(data, sent)
    check_in = CheckedIn("ev-1", "bk-1", "firm-a", "CF-1", "huu-nghi", T0)

    await step_areas(StepWaitingAreas((), received_at=WALL, check_ins=(check_in,)))
    await step_areas(step(("r-1", AREA, "29C11111", T0 + MIN)))

    saved = data.queues["huu-nghi"]
    assert [w.truck.visit_id for w in saved.queue.waiting] == ["wa-ev-1"]
    assert saved.queue.waiting[0].entered_at == T0
    assert data.page_visits == {"booking:bk-1": "wa-ev-1"}
    assert [(c.type, c.visit_id) for c in sent] == [("truck.called", "wa-ev-1")]
    assert (step_areas.stats.check_ins, step_areas.stats.entered) == (1, 1)

    await step_areas(step(("r-2", GATE_IN, "29C11111", T0 + 6 * MIN)))
    assert step_areas.stats.at_gate == 1
    assert data.pages["booking:bk-1"] == {
        "status": "at_gate",
        "reached_at": "2026-11-24T10:06:00+07:00",
        "zone": "UTC+07:00",
    }


async def test_a_check_in_of_another_firms_or_a_missing_manifest_queues_nothing() -> None:
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    sent: list[CallEventV1] = []
    step_areas = handler(data, sent)
    other_firm = CheckedIn("ev-1", "bk-1", "firm-b", "CF-1", "huu-nghi", T0)
    missing = CheckedIn("ev-2", "bk-2", "firm-a", "CF-404", "huu-nghi", T0)
    no_gate = CheckedIn("ev-3", "bk-3", "firm-a", "CF-1", "no-such-gate", T0)

    check_ins = (other_firm, missing, no_gate)
    await step_areas(StepWaitingAreas((), received_at=WALL, check_ins=check_ins))

    assert (sent, step_areas.stats.entered, step_areas.stats.check_ins) == ([], 0, 2)
    assert data.queues["huu-nghi"].queue.waiting == ()


async def test_the_gates_lane_events_step_its_queue_between_reads() -> None:
    """A called truck that does not come is recalled at its deadline and loses its place at
    the recall's, when only lane events (a `GateTime` each) come: before, nothing stepped
    the queue until the next plate read. Another gate's time steps nothing here."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    sent: list[CallEventV1] = []
    step_areas = handler(data, sent)
    await step_areas(step(("r-1", AREA, "29C11111", T0)))  # called: due +5, deadline +15

    def times(*at: tuple[str, str, datetime]) -> StepWaitingAreas:
        return StepWaitingAreas((), received_at=WALL, gate_times=tuple(GateTime(*t) for t in at))

    await step_areas(times(("le-1", "huu-nghi", T0 + 14 * MIN)))
    assert [c.type for c in sent] == ["truck.called"]
    await step_areas(times(("le-2", "no-such-gate", T0 + 40 * MIN)))
    await step_areas(times(("le-3", "huu-nghi", T0 + 16 * MIN)))
    assert [c.type for c in sent] == ["truck.called", "truck.recalled"]
    await step_areas(times(("le-4", "huu-nghi", T0 + 32 * MIN)))

    assert [c.type for c in sent] == ["truck.called", "truck.recalled", "truck.place_lost"]
    assert data.queues["huu-nghi"].queue.waiting == ()
    assert data.queues["huu-nghi"].stepped_to == T0 + 32 * MIN
    assert step_areas.stats.gate_times == 3


async def test_a_lane_event_more_than_the_lead_ahead_of_the_queue_steps_nothing() -> None:
    """The decider's boards hold a lane event dated more than `LEAD` ahead of the gate's
    reads until the reads reach it (cda49ee); call-forward stepped its queue to it at once:
    a lane closed a year ahead moved the queue's clock a year on, the truck waiting was
    recalled and lost its place on the spot, and every later call was dated a year ahead.
    Now such a time steps nothing; one within the lead still does, and the next read steps
    the queue as before."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    sent: list[CallEventV1] = []
    step_areas = handler(data, sent)
    await step_areas(step(("r-1", AREA, "29C11111", T0)))  # called: deadline +15

    def times(*at: tuple[str, str, datetime]) -> StepWaitingAreas:
        return StepWaitingAreas((), received_at=WALL, gate_times=tuple(GateTime(*t) for t in at))

    await step_areas(times(("le-1", "huu-nghi", T0 + timedelta(days=365))))
    assert [c.type for c in sent] == ["truck.called"]
    assert data.queues["huu-nghi"].stepped_to == T0
    await step_areas(times(("le-2", "huu-nghi", T0 + 16 * MIN)))  # within the lead
    assert [c.type for c in sent] == ["truck.called", "truck.recalled"]
    assert data.queues["huu-nghi"].stepped_to == T0 + 16 * MIN


def _record(topic: str, value: dict[str, object], ms: int) -> ConsumerRecord:
    body = json.dumps(value).encode()
    key = str(value["gate_id"]).encode() if "gate_id" in value else None  # a lane event's
    return ConsumerRecord(topic, 0, 0, ms, 0, key, body, None, 0, len(body), [])


async def test_a_read_far_ahead_of_its_record_is_skipped() -> None:
    """The decider's clock window at call-forward's door: a read stamped a day ahead of its
    Kafka record would move the queue's clock a day ahead, and every later read would be
    late, every call overdue. It is skipped (the decider dead-letters it); one within the
    window is taken."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    sent: list[CallEventV1] = []
    worker = CallForwardWorker(step=handler(data, sent))
    sent_ms = int(T0.timestamp() * 1000)
    read = {"event_id": "r-1", "camera_id": AREA, "plate_text": "29C11111", "confidence": 0.9}
    ahead = _record(
        PLATE_READS.name, read | {"captured_at": (T0 + 24 * 60 * MIN).isoformat()}, sent_ms
    )
    event = worker.decode(ahead)
    assert isinstance(event, OutOfClock) and "clock-skew: captured_at" in event.reason
    await worker.handle([Inbound("t", 0, 0, None, event)])
    assert (worker.out_of_clock, data.queues, sent) == (1, {}, [])

    fine = worker.decode(_record(PLATE_READS.name, read | {"captured_at": T0.isoformat()}, sent_ms))
    await worker.handle([Inbound("t", 0, 2, None, fine)])
    assert data.queues["huu-nghi"].stepped_to == T0 and len(sent) == 1


async def test_a_lane_event_far_ahead_of_its_record_is_taken_at_its_time_as_on_the_board() -> None:
    """One rule for a lane event's time, in its two readers: the lane-event worker applies
    it to the board at its `at` whatever its record's timestamp (the lane-events topic keeps
    the producer's time; refusing it there was tried and reverted, db9ed8d), and
    call-forward steps its queue to that same `at`. Before, call-forward skipped it as
    clock-skew while the board, which call-forward reads its lanes from, was settled to it:
    the queue stayed behind the board it planned on."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    sent: list[CallEventV1] = []
    worker = CallForwardWorker(step=handler(data, sent))
    board = LaneEventHandler(
        apply=None,  # type: ignore[arg-type]  # decode touches neither database nor broker
        outbox=None,  # type: ignore[arg-type]
        gates=GATES,
        group_id="test",
    )
    sent_ms = int(T0.timestamp() * 1000)
    await worker.step(step(("r-1", AREA, "29C11111", T0)))  # called: deadline +15
    later = T0 + 20 * MIN  # past its deadline; 20 minutes ahead of its record (window: 5)
    lane = {"event_id": "le-1", "gate_id": "huu-nghi", "kind": "lane_opened", "lane_id": "HN-E1"}
    record = _record(LANE_EVENTS.name, lane | {"at": later.isoformat()}, sent_ms)

    applied, stepped = board.decode(record), worker.decode(record)
    assert applied == stepped and isinstance(stepped, LaneEventV1) and stepped.at == later
    await worker.handle([Inbound(LANE_EVENTS.name, 0, 0, None, stepped)])

    assert worker.out_of_clock == 0
    assert data.queues["huu-nghi"].stepped_to == later
    assert [c.type for c in sent] == ["truck.called", "truck.recalled"]


async def test_trucks_called_in_turn_get_their_own_places_even_after_a_restart() -> None:
    """Each read takes the orchestrator's newest board, which knows nothing of the calls:
    the calls' places are kept on it (`with_calls`), so two trucks entering at once are not
    both called to HN-E1 (they were, in the live worker, while the simulation kept one
    board); after a restart the places come back from the saved calls."""
    data = MemoryCallForward(
        manifests=[manifest(f"CF-{n}", f"29C{n}{n}{n}{n}{n}") for n in (1, 2, 3)]
    )
    sent: list[CallEventV1] = []
    await handler(data, sent)(step(("r-1", AREA, "29C11111", T0), ("r-2", AREA, "29C22222", T0)))
    lanes = [c.lane_id for c in sent]
    assert len(lanes) == 2 and len(set(lanes)) == 2, lanes

    again = handler(data, sent)  # a restart: the queue comes back, the board is the store's
    await again(step(("r-3", AREA, "29C33333", T0)))
    assert len(sent) == 3 and sent[2].lane_id not in lanes, [c.lane_id for c in sent]


async def test_the_gates_decider_is_told_each_call_kept_past_arrival_and_not_after_a_loss() -> None:
    """The calls written for the gate's decider (`save_called`): a call, then its recall
    (the latest replaces it), withdrawn when the place is lost; a truck that reached the
    gate keeps its call (the decider may take the gate's read after this worker), until
    its deadline is `CALLED_KEEP` behind the queue's time."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111"), manifest("CF-2", "29C22222")])
    sent: list[CallEventV1] = []
    step_areas = handler(data, sent)

    def told() -> dict[str, tuple[str, str, bool]]:
        return {
            m: (c.lane_id, c.call_id, arrived)
            for m, (c, arrived) in data.called["huu-nghi"].items()
        }

    await step_areas(step(("r-1", AREA, "29C11111", T0)))
    (call,) = sent
    assert call.lane_id is not None
    assert told() == {"CF-1": (call.lane_id, "wa-r-1/call-1", False)}
    place = data.called["huu-nghi"]["CF-1"][0]
    assert (place.called_at, place.deadline) == (T0, T0 + 15 * MIN)

    await step_areas(step(("r-2", AREA, "29C22222", T0 + MIN)))
    await step_areas(step(("r-3", GATE_IN, "29C11111", T0 + 5 * MIN)))  # CF-1 at the gate
    assert told()["CF-1"] == (call.lane_id, "wa-r-1/call-1", True)
    assert told()["CF-2"][2] is False

    # CF-2 never comes: recalled (its latest call replaces the first), then its place lost
    await step_areas(step(("r-4", AREA, "29C99999", T0 + 17 * MIN)))
    assert told()["CF-2"][1] == "wa-r-2/call-2"
    await step_areas(step(("r-5", AREA, "29C99999", T0 + 33 * MIN)))
    assert [c.type for c in sent][-1] == "truck.place_lost"
    assert set(told()) == {"CF-1"}
    # an hour after CF-1's deadline, its call is forgotten
    await step_areas(step(("r-6", AREA, "29C99999", T0 + 76 * MIN)))
    assert told() == {}


async def test_a_cancelled_bookings_truck_is_withdrawn_from_the_queue_and_not_recalled() -> None:
    """Found by a stranger's try: a booking checked in, then cancelled, kept its truck in
    the queue, holding its lane, and recalled it by SMS. Now the cancellation withdraws it:
    a lost place with the reason (on the calls topic and its page), its call withdrawn for
    the gate's decider, and nothing more sent for it."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    data.bookings[("huu-nghi", "CF-1")] = ArrivingBooking(
        booking_id="bk-1", page_key="booking:bk-1", slot_start=T0, slot_end=T0 + 60 * MIN
    )
    sent: list[CallEventV1] = []
    step_areas = handler(data, sent)
    check_in = CheckedIn("ev-1", "bk-1", "firm-a", "CF-1", "huu-nghi", T0)
    await step_areas(StepWaitingAreas((), received_at=WALL, check_ins=(check_in,)))
    assert [c.type for c in sent] == ["truck.called"]
    assert set(data.called["huu-nghi"]) == {"CF-1"}

    cancel = BookingCancelled("ev-2", "bk-1", "firm-a", "CF-1", "huu-nghi", T0 + 2 * MIN)
    other = BookingCancelled("ev-3", "bk-9", "firm-a", "CF-9", "huu-nghi", T0 + 2 * MIN)
    await step_areas(StepWaitingAreas((), received_at=WALL, cancelled=(cancel, other)))

    assert [c.type for c in sent] == ["truck.called", "truck.place_lost"]
    assert "booking cancelled" in (sent[-1].reason or "")
    assert "not called" not in (sent[-1].reason or "")  # it was called (a stranger's try)
    assert data.queues["huu-nghi"].queue.waiting == ()
    assert sent[-1].withdrawn  # told as a cancellation, in the driver's words (SMS, page)
    assert data.pages["booking:bk-1"] == {"status": "cancelled"}
    assert data.called["huu-nghi"] == {}
    # its deadline passes: nothing recalled
    await step_areas(step(("r-9", AREA, "29C99999", T0 + 20 * MIN)))
    assert [c.type for c in sent] == ["truck.called", "truck.place_lost"]


def test_a_malformed_read_or_lane_event_is_skipped_a_malformed_booking_event_refused() -> None:
    """One copy of a bad record in the dead letters: the decider and the lane-event worker
    dead-letter malformed reads and lane events, so call-forward skips them (`Malformed`);
    it is the bookings topic's only reader, so a malformed booking event is refused here
    (the runtime dead-letters it)."""
    worker = CallForwardWorker(step=handler(MemoryCallForward(), []))

    def record(topic: str, body: bytes) -> ConsumerRecord:
        return ConsumerRecord(topic, 0, 7, 0, 0, None, body, None, 0, len(body), [])

    for topic in (PLATE_READS.name, LANE_EVENTS.name):
        found = worker.decode(record(topic, b"{not json"))
        assert isinstance(found, Malformed) and f"{topic}[0]@7" in found.reason
    with pytest.raises(InvalidEvent):
        worker.decode(record(BOOKINGS.name, b"{not json"))


async def test_a_truck_called_and_at_the_gate_in_one_batch_keeps_its_call_for_the_decider() -> None:
    """Found by a stranger's try (a day sent in one burst by a bare client): the worker took
    a truck's area read and its gate read in one batch, called the truck (the call went out
    on the calls topic and by SMS), saw it reach the gate, and saved no call for the gate's
    decider: only the calls of trucks still waiting were written, and a truck's arrival kept
    only a call saved by an earlier batch. The decider then sent the truck where its policy
    alone said (HN-E2 where the call said HN-E3). The call it held when it reached the gate
    is now kept, marked arrived, as a call saved before the arrival is."""
    data = MemoryCallForward(manifests=[manifest("CF-1", "29C11111")])
    sent: list[CallEventV1] = []
    await handler(data, sent)(
        step(("r-1", AREA, "29C11111", T0), ("r-2", GATE_IN, "29C11111", T0 + 5 * MIN))
    )
    (call,) = sent
    assert call.type == "truck.called" and call.lane_id is not None
    (place, arrived) = data.called["huu-nghi"]["CF-1"]
    assert (place.lane_id, place.call_id, arrived) == (call.lane_id, "wa-r-1/call-1", True)
    assert (place.called_at, place.deadline) == (call.occurred_at, call.deadline)
