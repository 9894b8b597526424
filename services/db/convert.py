"""Rows <-> domain value objects."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from lanes.model import (
    CustomsChannel,
    CustomsStatus,
    Direction,
    Lane,
    LaneDecision,
    LaneKind,
    Manifest,
    MatchOutcome,
    Outcome,
    ScoredManifest,
)
from lanes.visits import VisitTrack
from services.db.tables import DecisionRow, LaneRow, ManifestRow, PlateTrackRow, VisitRow


def manifest_from_row(row: ManifestRow) -> Manifest:
    return Manifest(
        manifest_id=row.manifest_id,
        firm_id=row.firm_id,
        direction=Direction(row.direction),
        tractor_plate=row.tractor_plate,
        trailer_plate=row.trailer_plate,
        containers=tuple(row.containers or ()),
        cargo_description=row.cargo_description,
        hs_codes=tuple(row.hs_codes or ()),
        gross_weight_kg=row.gross_weight_kg,
        perishable=row.perishable,
        hazmat_class=row.hazmat_class,
        customs_status=CustomsStatus(row.customs_status),
        window_start=row.window_start,
        window_end=row.window_end,
        customs_channel=None
        if row.customs_channel is None
        else CustomsChannel(row.customs_channel),
    )


def manifest_values(manifest: Manifest) -> dict[str, Any]:
    """The `manifests` columns a manifest's content fills (not version, source or times)."""
    return {
        "manifest_id": manifest.manifest_id,
        "firm_id": manifest.firm_id,
        "direction": manifest.direction.value,
        "tractor_plate": manifest.tractor_plate,
        "trailer_plate": manifest.trailer_plate,
        "containers": list(manifest.containers),
        "cargo_description": manifest.cargo_description,
        "hs_codes": list(manifest.hs_codes),
        "gross_weight_kg": manifest.gross_weight_kg,
        "perishable": manifest.perishable,
        "hazmat_class": manifest.hazmat_class,
        "customs_status": manifest.customs_status.value,
        "customs_channel": _channel(manifest),
        "window_start": manifest.window_start,
        "window_end": manifest.window_end,
    }


_TIME = TypeAdapter(datetime | None)


def manifest_payload(manifest: Manifest) -> dict[str, Any]:
    """The manifest in the intake form's JSON shape (`ManifestV1.model_dump(mode="json")`),
    built from its column values without re-validating: seeded manifests may lack a window."""
    values = manifest_values(manifest)
    cargo = {
        "description": values.pop("cargo_description"),
        "hs_codes": values.pop("hs_codes"),
        "gross_weight_kg": values.pop("gross_weight_kg"),
    }
    times = {k: _TIME.dump_python(values[k], mode="json") for k in ("window_start", "window_end")}
    return values | {"cargo": cargo} | times


def manifest_from_payload(payload: Mapping[str, Any], *, firm_id: str) -> Manifest:
    """The manifest a version's `payload` (`manifest_payload`) holds, as stored and as the
    live system used it: not through the intake's rules again, which it may not pass (an
    announced manifest of the other side's notice, a version stored before a rule)."""
    cargo = payload.get("cargo") or {}
    channel = payload.get("customs_channel")
    return Manifest(
        manifest_id=payload["manifest_id"],
        firm_id=firm_id,
        direction=Direction(payload["direction"]),
        tractor_plate=payload["tractor_plate"],
        trailer_plate=payload.get("trailer_plate"),
        containers=tuple(payload.get("containers") or ()),
        cargo_description=cargo.get("description", ""),
        hs_codes=tuple(cargo.get("hs_codes") or ()),
        gross_weight_kg=cargo.get("gross_weight_kg"),
        perishable=bool(payload.get("perishable", False)),
        hazmat_class=payload.get("hazmat_class"),
        customs_status=CustomsStatus(payload["customs_status"]),
        window_start=_TIME.validate_python(payload.get("window_start")),
        window_end=_TIME.validate_python(payload.get("window_end")),
        customs_channel=None if channel is None else CustomsChannel(channel),
    )


def _channel(manifest: Manifest) -> str | None:
    channel = manifest.customs_channel
    return None if channel is None else channel.value


def lane_from_row(row: LaneRow) -> Lane:
    return Lane(
        lane_id=row.lane_id,
        gate_id=row.gate_id,
        direction=Direction(row.direction),
        kind=LaneKind(row.kind),
        service_time=timedelta(seconds=row.service_seconds),
    )


def track_from_row(row: PlateTrackRow | VisitRow) -> VisitTrack:
    """A visit's grouping state, from its plate track or its visit row (same columns)."""
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
        "match_candidates": [
            {
                "manifest_id": c.manifest_id,
                "plate": c.plate,
                "score": c.score,
                "closest_read": c.closest_read,
            }
            for c in decision.match_candidates
        ],
        "lane_id": decision.lane_id,
        "carrier_slot": decision.carrier_slot,
        "reason": decision.reason,
        "decided_at": decision.decided_at,
        "expected_start_at": decision.expected_start_at,
        "expected_done_at": decision.expected_done_at,
        "read_event_ids": list(decision.read_event_ids),
        "revision": decision.revision,
        "published_at": None,
    }


def decision_from_row(row: DecisionRow) -> LaneDecision:
    return LaneDecision(
        decision_id=row.decision_id,
        visit_id=row.visit_id,
        gate_id=row.gate_id,
        plate=row.plate,
        manifest_id=row.manifest_id,
        outcome=Outcome(row.outcome),
        match_outcome=MatchOutcome(row.match_outcome),
        lane_id=row.lane_id,
        reason=row.reason,
        decided_at=row.decided_at,
        read_event_ids=tuple(row.read_event_ids),
        carrier_slot=row.carrier_slot,
        expected_start_at=row.expected_start_at,
        expected_done_at=row.expected_done_at,
        match_score=row.match_score,
        match_candidates=tuple(ScoredManifest(**c) for c in row.match_candidates or ()),
        revision=row.revision,
    )


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
        "match_candidates": list(row.match_candidates or ()),
        "lane_id": row.lane_id,
        "carrier_slot": row.carrier_slot,
        "reason": row.reason,
        "decided_at": row.decided_at,
        "expected_start_at": row.expected_start_at,
        "expected_done_at": row.expected_done_at,
        "read_event_ids": list(row.read_event_ids),
        "revision": row.revision,
    }
