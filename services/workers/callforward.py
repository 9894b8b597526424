"""The call-forward worker (issue 23): `borderflow worker callforward`.

It reads `borderflow.plate-reads`, `borderflow.bookings` (its `booking.checked_in` events:
a booked truck checked in at the waiting area; the other booking events are not
call-forward's) and `borderflow.lane-events` (each steps its gate's queue to its time: a
lane freed calls the next truck, an overdue call is recalled, between plate reads) in a
consumer group of its own and hands each batch to call-forward's use
case (`StepWaitingAreasHandler`, services/service_layer/callforward.py,
which says what a read does), built by the composition root on the database; the calls
it decides are written in the batch's transaction and published on `borderflow.calls`
after it commits (the calls' outbox, services/adapters/call_outbox.py), and the consumer's
offsets are committed after that. When idle it marks the calls sent and publishes those a
failure or a crash left; a call sent twice has the same call id, which the notifier keeps
from being sent twice."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import TypeVar

from aiokafka import ConsumerRecord

from services.service_layer.callforward import (
    BookingCancelled,
    CallForwardStats,
    CheckedIn,
    GateTime,
    StepWaitingAreas,
    StepWaitingAreasHandler,
)
from services.workers.decider import ClockWindow
from streams import clock
from streams.bookings import BookingEventV1
from streams.codec import decode_booking_event, decode_plate_read, plate_read_from_wire
from streams.errors import InvalidEvent
from streams.events import PlateReadV1
from streams.lane_events import LaneEventV1, decode_lane_event
from streams.runtime import Inbound
from streams.topics import BOOKINGS, LANE_EVENTS

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OutOfClock:
    """A plate read whose `captured_at` is further ahead of the record's timestamp than the
    clock window allows (`ClockWindow`, as the decider's door): it would move the queue's
    clock ahead and make every later read late. Skipped, not dead-lettered here: the
    decider dead-letters such a read with this reason. Not a lane event: the lane-event
    worker applies one at its `at` whatever its record's time (the lane-events topic keeps
    the producer's time), and so does this worker, so the two never disagree on it."""

    reason: str


@dataclass(frozen=True, slots=True)
class Malformed:
    """A plate read or lane event that does not decode. Skipped, not dead-lettered here:
    the decider and the lane-event worker, those topics' owners, dead-letter it; a second
    copy in the dead-letter topic would be redriven twice (found by a stranger's try: each
    bad read was dead-lettered twice). A malformed booking event is dead-lettered here,
    this worker being that topic's only reader."""

    reason: str


Consumed = PlateReadV1 | BookingEventV1 | LaneEventV1 | OutOfClock | Malformed


class CallForwardWorker:
    def __init__(
        self,
        *,
        step: StepWaitingAreasHandler,
        bookings_topic: str = BOOKINGS.name,
        lane_events_topic: str = LANE_EVENTS.name,
        clock_window: ClockWindow | None = None,
    ) -> None:
        """`step`: the use case, as the composition root builds it (`make_callforward`);
        `bookings_topic`, `lane_events_topic`: where the booking and lane events come from
        (every other topic it reads carries plate reads); `clock_window`: the decider's,
        for the plate reads."""
        self.step = step
        self.bookings_topic, self.lane_events_topic = bookings_topic, lane_events_topic
        self.clock_window = clock_window or ClockWindow()
        self.out_of_clock = 0
        self.malformed = 0

    @property
    def stats(self) -> CallForwardStats:
        return self.step.stats

    async def idle(self) -> None:
        """Between batches: the calls sent are marked, and those left unpublished (a
        failed send, a crash) are published."""
        await self.step.calls.drain()

    def decode(self, record: ConsumerRecord) -> Consumed:
        if record.topic == self.bookings_topic:
            return decode_booking_event(record.value)  # its only reader: dead-lettered here
        try:
            return self._decode(record)
        except InvalidEvent as exc:
            return Malformed(f"{record.topic}[{record.partition}]@{record.offset}: {exc}")

    def _decode(self, record: ConsumerRecord) -> Consumed:
        if record.topic == self.lane_events_topic:
            # taken at its `at`, whatever its record's timestamp, as the lane-event worker
            # applies it to the board this worker reads (`decode_lane_event` is both
            # workers' one judge of a lane event's time; the clock window is the reads')
            return decode_lane_event(record.value)
        read = decode_plate_read(record.value)
        skew = self.clock_window.refuses(read.captured_at, record.timestamp)
        return read if skew is None else OutOfClock(skew)

    async def handle(self, batch: Sequence[Inbound[Consumed]]) -> None:
        events = [item.event for item in batch]
        for skipped in (e for e in events if isinstance(e, OutOfClock)):
            self.out_of_clock += 1
            log.warning("call-forward skips an event: %s", skipped.reason)
        for bad in (e for e in events if isinstance(e, Malformed)):
            self.malformed += 1
            log.warning(
                "call-forward skips a malformed record (its owner dead-letters it): %s", bad.reason
            )
        reads = tuple(plate_read_from_wire(e) for e in events if isinstance(e, PlateReadV1))
        check_ins = _booking_items(events, "booking.checked_in", CheckedIn)
        cancelled = _booking_items(events, "booking.cancelled", BookingCancelled)
        times = tuple(
            GateTime(e.event_id, e.gate_id, e.at) for e in events if isinstance(e, LaneEventV1)
        )
        await self.step(
            StepWaitingAreas(
                reads,
                received_at=clock.wall_clock(),
                check_ins=check_ins,
                gate_times=times,
                cancelled=cancelled,
            )
        )


_Item = TypeVar("_Item", CheckedIn, BookingCancelled)


def _booking_items(events: Sequence[Consumed], type_: str, item: type[_Item]) -> tuple[_Item, ...]:
    """The booking events of `type_`, as the use case's `item`s (the outbox's own events are
    aware; a naive time is taken as UTC)."""
    return tuple(
        item(
            e.event_id,
            e.booking_id,
            e.firm_id,
            e.manifest_id,
            e.gate_id,
            e.occurred_at if e.occurred_at.tzinfo else e.occurred_at.replace(tzinfo=UTC),
        )
        for e in events
        if isinstance(e, BookingEventV1) and e.type == type_
    )
