from __future__ import annotations

from datetime import timedelta

import pytest

from lanes.errors import DomainError
from lanes.gates import HUU_NGHI, UnknownGateError, default_gates, get_gate
from lanes.model import CameraRole, Direction, LaneKind


def test_default_gates_hold_huu_nghi() -> None:
    assert dict(default_gates()) == {"huu-nghi": HUU_NGHI}
    assert get_gate("huu-nghi") is HUU_NGHI
    assert HUU_NGHI.name == "Huu Nghi - Youyiguan"


def test_unknown_gate_is_a_domain_error() -> None:
    with pytest.raises(UnknownGateError, match="mong-cai") as raised:
        get_gate("mong-cai")
    assert isinstance(raised.value, DomainError)
    assert raised.value.gate_id == "mong-cai"


@pytest.mark.parametrize(
    ("direction", "short"), [(Direction.EXPORT, "exp"), (Direction.IMPORT, "imp")]
)
def test_each_direction_has_an_approach_and_two_gate_cameras(
    direction: Direction, short: str
) -> None:
    cameras = {c.camera_id: c.role for c in HUU_NGHI.cameras if c.direction is direction}
    assert cameras == {
        f"hn-{short}-approach-1": CameraRole.APPROACH,
        f"hn-{short}-gate-1": CameraRole.GATE_IN,
        f"hn-{short}-gate-2": CameraRole.GATE_IN,
    }
    assert all(c.gate_id == "huu-nghi" for c in HUU_NGHI.cameras)


@pytest.mark.parametrize(
    ("direction", "prefix"), [(Direction.EXPORT, "HN-E"), (Direction.IMPORT, "HN-I")]
)
def test_each_direction_has_five_lanes(direction: Direction, prefix: str) -> None:
    lanes = {lane.lane_id: (lane.kind, lane.service_time) for lane in HUU_NGHI.lanes_for(direction)}
    minutes = timedelta(minutes=1)
    assert lanes == {
        f"{prefix}1": (LaneKind.STANDARD, 10 * minutes),
        f"{prefix}2": (LaneKind.STANDARD, 10 * minutes),
        f"{prefix}3": (LaneKind.SCANNER, 6 * minutes),
        f"{prefix}4": (LaneKind.INSPECTION, 45 * minutes),
        f"{prefix}5": (LaneKind.HAZMAT, 20 * minutes),
    }


def test_ids_are_unique() -> None:
    camera_ids = [c.camera_id for c in HUU_NGHI.cameras]
    lane_ids = [lane.lane_id for lane in HUU_NGHI.lanes]
    assert len(set(camera_ids)) == len(camera_ids) == 6
    assert len(set(lane_ids)) == len(lane_ids) == 10


def test_default_gates_are_read_only() -> None:
    gates = default_gates()
    with pytest.raises(TypeError):
        gates["x"] = HUU_NGHI  # type: ignore[index]
