"""HTTP response schemas (wire formats of the API, separate from the ORM rows). The
manifest request body is the intake form itself, `streams.manifests.ManifestV1`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator


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


class WaitingCall(BaseModel):
    """A waiting truck's latest call (`recall`: the second, after the first ran out)."""

    call_id: str
    kind: str
    lane_id: str | None
    carrier_slot: str | None
    called_at: datetime
    due_at: datetime
    deadline: datetime
    calls: int


class WaitingTruck(BaseModel):
    visit_id: str
    manifest_id: str | None
    plate: str | None
    direction: str
    area_id: str
    entered_at: datetime
    booking: str
    channel: str
    position: int | None = Field(description="in its direction's line, not called yet")
    call: WaitingCall | None
    short_code: str = Field(
        description="the 8-character code of the driver's page (/d/c/{code}), for the "
        "area's staff to print or tell the driver: a truck not booked has no other link"
    )


class WaitingAreaView(BaseModel):
    """The gate's waiting areas as the call-forward worker left them: the trucks not yet at
    the gate, in service order, and the event time the queue was stepped to."""

    gate_id: str
    stepped_to: datetime | None
    trucks: list[WaitingTruck]


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

    @field_validator("window_start", "window_end", "updated_at")
    @classmethod
    def _in_utc(cls, at: datetime | None) -> datetime | None:
        """In UTC, as the database gives them back: the answer to a submission (built from
        the form, at the offset it was sent with) reads as the GET of the same manifest."""
        return None if at is None or at.tzinfo is None else at.astimezone(UTC)


class ManifestSubmitted(ManifestView):
    status: Literal["created", "updated", "unchanged"]


class ManifestPage(BaseModel):
    items: list[ManifestView]
    next: str | None = Field(description="pass as `after` for the next page; null on the last page")
