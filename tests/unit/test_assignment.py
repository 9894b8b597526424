from __future__ import annotations

from datetime import timedelta

from lanes.assignment import LanePolicy, SimpleLanePolicy
from lanes.model import CustomsStatus, Direction, LaneState, Outcome
from services.gate_config import get_gate
from tests.unit.factories import at, manifest

HUU_NGHI = get_gate("huu-nghi")
POLICY: LanePolicy = SimpleLanePolicy()
EXPORT_LANES = HUU_NGHI.lanes_for(Direction.EXPORT)
NOW = at(0)
STANDARD = tuple(f"HN-E{n}" for n in range(1, 7))  # then scanners E7-E8, inspection E9-E11,
SERVICE = timedelta(minutes=1.5)  # hazmat E12 (services/gates/huu-nghi.toml)


def closed(*lane_ids: str) -> dict[str, LaneState]:
    return {lane_id: LaneState(lane_id, free_at=None, is_open=False) for lane_id in lane_ids}


def test_cleared_truck_without_containers_gets_a_standard_lane_now() -> None:
    assignment = POLICY.assign(manifest(), EXPORT_LANES, {}, now=NOW)

    assert assignment.outcome is Outcome.ASSIGNED
    assert assignment.lane_id == "HN-E1"  # all six standard lanes free: ties by lane_id
    assert assignment.expected_start_at == NOW
    assert assignment.expected_done_at == NOW + SERVICE
    assert assignment.reason == "cleared -> standard lane HN-E1 (expected start 10:00, 0 ahead)"


def test_policy_picks_the_lane_free_earliest() -> None:
    states = {lane_id: LaneState(lane_id, free_at=at(5), queued=1) for lane_id in STANDARD}
    states["HN-E1"] = LaneState("HN-E1", free_at=at(8), queued=2)
    states["HN-E2"] = LaneState("HN-E2", free_at=at(3), queued=1)
    assignment = POLICY.assign(manifest(), EXPORT_LANES, states, now=NOW)

    assert assignment.lane_id == "HN-E2"
    assert assignment.expected_start_at == at(3)
    assert assignment.expected_done_at == at(3) + SERVICE
    assert "1 ahead" in assignment.reason


def test_a_lane_free_in_the_past_starts_now() -> None:
    states = {
        "HN-E1": LaneState("HN-E1", free_at=at(-30)),
        "HN-E2": LaneState("HN-E2", free_at=at(-60)),
    }
    assignment = POLICY.assign(manifest(), EXPORT_LANES, states, now=NOW)

    assert assignment.lane_id == "HN-E1"  # both start now: tie broken by lane_id
    assert assignment.expected_start_at == NOW


def test_closed_lanes_are_skipped() -> None:
    assignment = POLICY.assign(manifest(), EXPORT_LANES, closed("HN-E1"), now=NOW)
    assert assignment.lane_id == "HN-E2"


def test_containers_go_to_the_scanner() -> None:
    states = {
        "HN-E7": LaneState("HN-E7", free_at=at(4), queued=1),
        "HN-E8": LaneState("HN-E8", free_at=at(6), queued=2),
    }
    assignment = POLICY.assign(
        manifest(containers=("MSKU1234565", "TGHU7654321")), EXPORT_LANES, states, now=NOW
    )

    assert assignment.lane_id == "HN-E7"  # standard lanes are free now, but not scanners
    assert assignment.expected_done_at == at(7)
    assert assignment.reason == (
        "cleared, 2 containers -> scanner lane HN-E7 (expected start 10:04, 1 ahead)"
    )


def test_containers_fall_back_to_standard_when_no_scanner_is_open() -> None:
    assignment = POLICY.assign(
        manifest(containers=("MSKU1234565",)), EXPORT_LANES, closed("HN-E7", "HN-E8"), now=NOW
    )

    assert assignment.outcome is Outcome.ASSIGNED
    assert assignment.lane_id == "HN-E1"
    assert "no scanner lane open" in assignment.reason


def test_hazmat_goes_to_the_hazmat_lane_even_if_customs_wants_an_inspection() -> None:
    hazmat = manifest(hazmat_class="3", customs_status=CustomsStatus.INSPECT)
    assignment = POLICY.assign(hazmat, EXPORT_LANES, {}, now=NOW)

    assert assignment.lane_id == "HN-E12"
    assert assignment.expected_done_at == at(6)
    assert "hazmat class 3" in assignment.reason


def test_hazmat_without_an_open_hazmat_lane_is_refused() -> None:
    assignment = POLICY.assign(manifest(hazmat_class="3"), EXPORT_LANES, closed("HN-E12"), now=NOW)

    assert assignment.outcome is Outcome.REFUSED
    assert assignment.lane_id is None
    assert assignment.expected_start_at is None
    assert "no hazmat lane open" in assignment.reason


def test_customs_inspect_goes_to_the_inspection_lane() -> None:
    inspect = manifest(customs_status=CustomsStatus.INSPECT, containers=("MSKU1234565",))
    busy = {lane_id: LaneState(lane_id, free_at=at(2)) for lane_id in ("HN-E10", "HN-E11")}
    assignment = POLICY.assign(inspect, EXPORT_LANES, busy, now=NOW)

    assert assignment.lane_id == "HN-E9"
    assert assignment.expected_done_at == at(12)


def test_customs_pending_needs_review_without_a_lane() -> None:
    pending = manifest(customs_status=CustomsStatus.PENDING, hazmat_class="3")
    assignment = POLICY.assign(pending, EXPORT_LANES, {}, now=NOW)

    assert assignment.outcome is Outcome.NEEDS_REVIEW
    assert assignment.lane_id is None
    assert assignment.reason == "customs status pending: not cleared"


def test_no_open_standard_lane_is_refused() -> None:
    assignment = POLICY.assign(manifest(), EXPORT_LANES, closed(*STANDARD), now=NOW)

    assert assignment.outcome is Outcome.REFUSED
    assert assignment.reason == "cleared: no standard lane open"


def test_only_the_lanes_passed_are_considered() -> None:
    import_lanes = HUU_NGHI.lanes_for(Direction.IMPORT)
    assignment = POLICY.assign(manifest(direction=Direction.IMPORT), import_lanes, {}, now=NOW)
    assert assignment.lane_id == "HN-I1"
