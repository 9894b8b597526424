"""The weigh-in-motion intake: `borderflow.weigh-in-motion` -> the weighings use case
(`RecordWeighingsHandler`, services/service_layer/weighings.py) -> the `weighings` table,
which the decider's alert step reads (the overweight rule). A record that is not a valid
weighing, or names a gate this system does not run, is dead-lettered by the consumer
runtime with the field and the reason; a redelivered one changes nothing.

It runs in the manifest intake's process (`borderflow worker manifests`, and `borderflow
up`): both store what outside systems declare or measure, at a rate far below the reads'."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from aiokafka import ConsumerRecord

from lanes.errors import UnknownGateError
from services.gates.loader import require_known_gate
from services.ports import Weighing
from services.service_layer.weighings import RecordWeighings, RecordWeighingsHandler
from streams import clock
from streams.errors import InvalidEvent
from streams.runtime import Inbound
from streams.weigh import WeighInMotionV1, decode_weigh_in_motion


class WeighingIntake:
    def __init__(self, *, gate_ids: Collection[str], record: RecordWeighingsHandler) -> None:
        """`record`: the use case, as the composition root builds it
        (`make_weighing_intake`)."""
        self.record, self.gate_ids = record, frozenset(gate_ids)
        self.stored = 0

    def decode(self, record: ConsumerRecord) -> WeighInMotionV1:
        weighing = decode_weigh_in_motion(record.value)
        try:
            require_known_gate(weighing.gate_id, self.gate_ids)
        except UnknownGateError as exc:
            raise InvalidEvent(f"gate_id: {exc}") from None
        return weighing

    async def handle(self, batch: Sequence[Inbound[WeighInMotionV1]]) -> None:
        weighings = tuple(
            Weighing(
                event_id=w.event_id,
                station_id=w.station_id,
                gate_id=w.gate_id,
                captured_at=w.captured_at,
                plate=w.plate_text,
                gross_weight_kg=w.gross_weight_kg,
                payload=w.model_dump(mode="json"),
            )
            for w in (item.event for item in batch)
        )
        self.stored += await self.record(RecordWeighings(weighings, clock.wall_clock()))
