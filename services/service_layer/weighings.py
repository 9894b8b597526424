"""The weigh-in-motion intake's use case, written once: record a batch of weighings (the
decider's alert step reads them: the overweight rule). A weighing already recorded (by
event id) changes nothing, nor does one listed twice. The `borderflow.weigh-in-motion`
consumer (services/workers/weighings.py) calls it; the composition root builds it on the
database."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from lanes.plates import normalise_plate
from services.ports import Weighing, WeighingStores


@dataclass(frozen=True, slots=True)
class RecordWeighings:
    """Record `weighings` (their plates as read); `received_at`: the wall clock, kept."""

    weighings: tuple[Weighing, ...]
    received_at: datetime


class RecordWeighingsHandler:
    def __init__(self, *, uow: WeighingStores) -> None:
        self.uow = uow

    async def __call__(self, cmd: RecordWeighings) -> int:
        """How many were new (recorded now), stored in event-id order."""
        unique = {w.event_id: w for w in cmd.weighings}
        async with self.uow() as store:
            known = await store.known(sorted(unique))
            await store.add(
                [
                    replace(w, plate=normalise_plate(w.plate))
                    for event_id, w in sorted(unique.items())
                    if event_id not in known
                ],
                received_at=cmd.received_at,
            )
        return len(unique) - len(known)
