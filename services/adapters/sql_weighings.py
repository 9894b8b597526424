"""The weigh-in-motion intake's unit of work on the database (`WeighingStore`: the
`weighings` table, one transaction). The use case is services/service_layer/weighings.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db.alert_tables import WeighingRow
from services.db.engine import transactions
from services.ports import Weighing, WeighingStores


class SqlWeighingStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def known(self, event_ids: Sequence[str]) -> set[str]:
        return set(
            await self.session.scalars(
                select(WeighingRow.event_id).where(WeighingRow.event_id.in_(event_ids))
            )
        )

    async def add(self, weighings: Sequence[Weighing], *, received_at: datetime) -> None:
        self.session.add_all(
            WeighingRow(
                event_id=w.event_id,
                station_id=w.station_id,
                gate_id=w.gate_id,
                captured_at=w.captured_at,
                plate=w.plate,
                gross_weight_kg=w.gross_weight_kg,
                payload=dict(w.payload),
                received_at=received_at,
            )
            for w in weighings
        )


def sql_weighing_stores(sessions: async_sessionmaker[AsyncSession]) -> WeighingStores:
    """Opens a transaction: committed when the block ends normally, rolled back else."""
    return transactions(sessions, SqlWeighingStore)
