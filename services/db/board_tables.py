"""Rows of the orchestrator's state: each gate's board (the policy's view of its lanes,
queues, carriers and yard) and the lane events already applied to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from services.db.tables import Base

REFUSED = text("refused IS NOT NULL")  # the few waiting to be dead-lettered (0032)
HELD = text("held")  # the partial index's predicate, and the query's (boards.held_lane_events)


class GateBoardRow(Base):
    """The gate's board as `lanes.board_json.board_to_json`; written in the transaction that
    changed it, under the gate's lock."""

    __tablename__ = "gate_boards"
    gate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    board: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]
    revision: Mapped[int] = mapped_column(Integer, default=0)  # bumped on every write


class LaneEventRow(Base):
    """A lane event applied to a board (event_id: a redelivered one changes nothing)."""

    __tablename__ = "lane_events"
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    gate_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime]
    # dated ahead of the gate's reads when it came: kept, applied when they reach it
    # (services/service_layer/lane_events.py; migration 0031)
    held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # held, then refused by the board when its time came: the reason, until the lane-event
    # worker has dead-lettered it (then the row goes; migration 0032)
    refused: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_lane_events_gate_at", "gate_id", "at"),
        # the few held ones, looked for on every decider batch
        Index("ix_lane_events_held", "gate_id", "at", postgresql_where=HELD, sqlite_where=HELD),
        Index(
            "ix_lane_events_refused",
            "event_id",
            postgresql_where=REFUSED,
            sqlite_where=REFUSED,
        ),
    )
