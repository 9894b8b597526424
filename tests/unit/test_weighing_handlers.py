"""The weigh-in-motion intake's use case (services/service_layer/weighings.py) on the
in-memory adapter: no database, no broker. The same handler records weighings on the
database behind the `borderflow.weigh-in-motion` consumer and in the replay's sandbox
(tests/integration/test_live_alerts.py, test_replay_alerts.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.adapters.memory_weighings import MemoryWeighings
from services.ports import Weighing
from services.service_layer.weighings import RecordWeighings, RecordWeighingsHandler

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
WALL = datetime(2030, 1, 1, tzinfo=UTC)  # the servers' clock: kept, never decides


def weighing(event_id: str, plate: str = "29H-123.45", kg: float = 41_000) -> Weighing:
    return Weighing(
        event_id=event_id,
        station_id="hn-wim-1",
        gate_id="huu-nghi",
        captured_at=T0,
        plate=plate,
        gross_weight_kg=kg,
        payload={"event_id": event_id},
    )


async def test_new_weighings_are_recorded_once_with_their_plate_normalised() -> None:
    data = MemoryWeighings()
    record = RecordWeighingsHandler(uow=data.stores())

    first = await record(RecordWeighings((weighing("w-1"), weighing("w-1")), WALL))
    again = await record(RecordWeighings((weighing("w-1", kg=1.0), weighing("w-2")), WALL))

    assert (first, again) == (1, 1)
    assert sorted(data.stored) == ["w-1", "w-2"]
    stored, received_at = data.stored["w-1"]
    assert (stored.plate, stored.gross_weight_kg, received_at) == ("29H12345", 41_000, WALL)


async def test_an_empty_batch_records_nothing() -> None:
    data = MemoryWeighings()
    assert await RecordWeighingsHandler(uow=data.stores())(RecordWeighings((), WALL)) == 0
    assert data.stored == {}
