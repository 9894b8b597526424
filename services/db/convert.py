"""Rows <-> domain value objects."""

from __future__ import annotations

from datetime import timedelta

from lanes.model import (
    CustomsStatus,
    Direction,
    Lane,
    LaneDecision,
    LaneKind,
    LaneState,
    Manifest,
)
from lanes.visits import VisitTrack
from services.db.tables import DecisionRow, LaneRow, ManifestRow, PlateTrackRow


def manifest_from_row(row: ManifestRow) -> Manifest:
    return Manifest(
        manifest_id=row.manifest_id,
        firm_id=row.firm_id,
        direction=Direction(row.direction),
        tractor_plate=row.tractor_plate,
        trailer_plate=row.trailer_plate,
        containers=tuple(row.containers or ()),
        cargo_description=row.cargo_description,
        perishable=row.perishable,
        hazmat_class=row.hazmat_class,
        customs_status=CustomsStatus(row.customs_status),
        window_start=row.window_start,
        window_end=row.window_end,
    )


def lane_from_row(row: LaneRow) -> Lane:
    return Lane(
        lane_id=row.lane_id,
        gate_id=row.gate_id,
        direction=Direction(row.direction),
        kind=LaneKind(row.kind),
        service_time=timedelta(seconds=row.service_seconds),
    )


def lane_state_from_row(row: LaneRow, queued: int = 0) -> LaneState:
    return LaneState(lane_id=row.lane_id, free_at=row.free_at, queued=queued, is_open=row.is_open)


def track_from_row(row: PlateTrackRow) -> VisitTrack:
    return VisitTrack(
        gate_id=row.gate_id,
        plate=row.plate,
        visit_id=row.visit_id,
        direction=Direction(row.direction),
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        read_count=row.read_count,
    )


def decision_values(decision: LaneDecision) -> dict[str, object]:
    return {
        "decision_id": decision.decision_id,
        "visit_id": decision.visit_id,
        "gate_id": decision.gate_id,
        "plate": decision.plate,
        "manifest_id": decision.manifest_id,
        "outcome": decision.outcome.value,
        "match_outcome": decision.match_outcome.value,
        "match_score": decision.match_score,
        "lane_id": decision.lane_id,
        "carrier_slot": decision.carrier_slot,
        "reason": decision.reason,
        "decided_at": decision.decided_at,
        "expected_start_at": decision.expected_start_at,
        "expected_done_at": decision.expected_done_at,
        "read_event_ids": list(decision.read_event_ids),
        "published_at": None,
    }


def decision_row_to_wire(row: DecisionRow) -> dict[str, object]:
    return {
        "decision_id": row.decision_id,
        "visit_id": row.visit_id,
        "gate_id": row.gate_id,
        "plate": row.plate,
        "manifest_id": row.manifest_id,
        "outcome": row.outcome,
        "match_outcome": row.match_outcome,
        "match_score": row.match_score,
        "lane_id": row.lane_id,
        "carrier_slot": row.carrier_slot,
        "reason": row.reason,
        "decided_at": row.decided_at,
        "expected_start_at": row.expected_start_at,
        "expected_done_at": row.expected_done_at,
        "read_event_ids": list(row.read_event_ids),
    }
