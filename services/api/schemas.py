"""HTTP response schemas (wire formats of the API, separate from the ORM rows)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class ComponentHealth(BaseModel):
    ok: bool
    detail: str


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    broker: ComponentHealth
    database: ComponentHealth


class QueuedTruck(BaseModel):
    visit_id: str
    decision_id: str
    plate: str
    manifest_id: str | None
    decided_at: datetime
    expected_start_at: datetime | None
    expected_done_at: datetime | None
    reason: str


class LaneQueue(BaseModel):
    lane_id: str
    direction: str
    kind: str
    is_open: bool
    trucks: list[QueuedTruck]


class QueueView(BaseModel):
    gate_id: str
    as_of: datetime
    lanes: list[LaneQueue]
    needs_review: int
