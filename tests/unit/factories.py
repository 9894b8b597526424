"""Small builders for domain objects, so each test states only what it is about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lanes.model import (
    Camera,
    CustomsStatus,
    Direction,
    Manifest,
    MatchOutcome,
    MatchResult,
    PlateRead,
    Visit,
)
from lanes.plates import normalise_plate
from lanes.visits import ReadAtGate
from services.gates.loader import get_gate

HUU_NGHI = get_gate("huu-nghi")
T0 = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def camera(camera_id: str = "hn-exp-gate-1") -> Camera:
    found = HUU_NGHI.camera(camera_id)
    assert found is not None, camera_id
    return found


def read(
    event_id: str,
    plate_text: str = "29H-123.45",
    minutes: float = 0,
    camera_id: str = "hn-exp-gate-1",
) -> ReadAtGate:
    plate_read = PlateRead(
        event_id=event_id,
        camera_id=camera_id,
        captured_at=at(minutes),
        plate_text=plate_text,
        confidence=0.9,
    )
    return ReadAtGate(plate_read, camera(camera_id), normalise_plate(plate_text))


def manifest(
    manifest_id: str = "M-1",
    plate: str = "29H12345",
    direction: Direction = Direction.EXPORT,
    *,
    containers: tuple[str, ...] = (),
    hazmat_class: str | None = None,
    customs_status: CustomsStatus = CustomsStatus.CLEARED,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> Manifest:
    return Manifest(
        manifest_id=manifest_id,
        firm_id="firm-1",
        direction=direction,
        tractor_plate=plate,
        containers=containers,
        hazmat_class=hazmat_class,
        customs_status=customs_status,
        window_start=window_start,
        window_end=window_end,
    )


def visit(
    plate: str = "29H12345",
    direction: Direction = Direction.EXPORT,
    *,
    visit_id: str = "v-1",
    read_event_ids: tuple[str, ...] = ("r-1", "r-2"),
) -> Visit:
    return Visit(
        visit_id=visit_id,
        gate_id=HUU_NGHI.gate_id,
        direction=direction,
        plate=plate,
        first_seen_at=at(0),
        last_seen_at=at(1),
        read_event_ids=read_event_ids,
    )


def matched(found: Manifest) -> MatchResult:
    return MatchResult(MatchOutcome.MATCHED, found, 1.0, f"manifest {found.manifest_id}")
