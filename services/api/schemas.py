"""HTTP response schemas (wire formats of the API, separate from the ORM rows). The
manifest request body is the intake form itself, `streams.manifests.ManifestV1`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


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


class CargoView(BaseModel):
    description: str
    hs_codes: list[str]
    gross_weight_kg: float | None


class ManifestView(BaseModel):
    """A stored manifest: the intake form (`ManifestV1`) plus its version and last change."""

    manifest_id: str
    firm_id: str
    direction: str
    tractor_plate: str
    trailer_plate: str | None
    containers: list[str]
    cargo: CargoView
    perishable: bool
    hazmat_class: str | None
    customs_status: str
    customs_channel: Literal["green", "yellow", "red"] | None
    window_start: datetime | None
    window_end: datetime | None
    version: int
    updated_at: datetime


class ManifestSubmitted(ManifestView):
    status: Literal["created", "updated", "unchanged"]


class ManifestPage(BaseModel):
    items: list[ManifestView]
    next: str | None = Field(description="pass as `after` for the next page; null on the last page")
