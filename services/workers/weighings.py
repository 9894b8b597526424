"""The weigh-in-motion intake: `borderflow.weigh-in-motion` -> the `weighings` table, which
the decider's alert step reads (the overweight rule). A record that is not a valid
weighing, or names a gate this system does not run, is dead-lettered by the consumer
runtime with the field and the reason; a redelivered one changes nothing.

It runs in the manifest intake's process (`borderflow worker manifests`, and `borderflow
up`): both store what outside systems declare or measure, at a rate far below the reads'."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from aiokafka import ConsumerRecord
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lanes.errors import UnknownGateError
from lanes.plates import normalise_plate
from services.db.alert_tables import WeighingRow
from services.gates.loader import require_known_gate
from streams import clock
from streams.errors import InvalidEvent
from streams.runtime import Inbound
from streams.weigh import WeighInMotionV1, decode_weigh_in_motion


class WeighingIntake:
    def __init__(
        self, *, sessions: async_sessionmaker[AsyncSession], gate_ids: Collection[str]
    ) -> None:
        self.sessions, self.gate_ids = sessions, frozenset(gate_ids)
        self.stored = 0

    def decode(self, record: ConsumerRecord) -> WeighInMotionV1:
        weighing = decode_weigh_in_motion(record.value)
        try:
            require_known_gate(weighing.gate_id, self.gate_ids)
        except UnknownGateError as exc:
            raise InvalidEvent(f"gate_id: {exc}") from None
        return weighing

    async def handle(self, batch: Sequence[Inbound[WeighInMotionV1]]) -> None:
        unique = {item.event.event_id: item.event for item in batch}
        async with self.sessions() as session, session.begin():
            known = set(
                await session.scalars(
                    select(WeighingRow.event_id).where(WeighingRow.event_id.in_(sorted(unique)))
                )
            )
            now = clock.wall_clock()
            session.add_all(
                WeighingRow(
                    event_id=w.event_id,
                    station_id=w.station_id,
                    gate_id=w.gate_id,
                    captured_at=w.captured_at,
                    plate=normalise_plate(w.plate_text),
                    gross_weight_kg=w.gross_weight_kg,
                    payload=w.model_dump(mode="json"),
                    received_at=now,
                )
                for event_id, w in sorted(unique.items())
                if event_id not in known
            )
        self.stored += len(unique) - len(known)
