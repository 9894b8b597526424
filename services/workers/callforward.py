"""The call-forward worker (issue 23): `borderflow worker callforward`.

It reads `borderflow.plate-reads` in a consumer group of its own and hands each batch to
call-forward's use case (`StepWaitingAreasHandler`, services/service_layer/callforward.py,
which says what a read does), built by the composition root on the database; the
consumer's offsets are committed after the batch's transaction. A batch replayed after a
crash republishes its calls with the same call ids, which the notifier keeps from being
sent twice."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import ConsumerRecord

from services.service_layer.callforward import (
    CallForwardStats,
    StepWaitingAreas,
    StepWaitingAreasHandler,
)
from streams import clock
from streams.codec import decode_plate_read, plate_read_from_wire
from streams.events import PlateReadV1
from streams.runtime import Inbound


class CallForwardWorker:
    def __init__(self, *, step: StepWaitingAreasHandler) -> None:
        """`step`: the use case, as the composition root builds it (`make_callforward`)."""
        self.step = step

    @property
    def stats(self) -> CallForwardStats:
        return self.step.stats

    def decode(self, record: ConsumerRecord) -> PlateReadV1:
        return decode_plate_read(record.value)  # malformed: the runtime dead-letters it

    async def handle(self, batch: Sequence[Inbound[PlateReadV1]]) -> None:
        reads = tuple(plate_read_from_wire(item.event) for item in batch)
        await self.step(StepWaitingAreas(reads, received_at=clock.wall_clock()))
