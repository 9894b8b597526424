"""The configured gates: data only (issue 4 moves them to a config file).

The default is Huu Nghi (Lang Son, VN) - Youyiguan (Guangxi, CN). Service times follow the
Border Guard's figure for a vehicle's procedure at land gates: from 45 minutes down to ~10
(2021); a scanner pass is quicker, a physical inspection takes the old 45 minutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType

from lanes.errors import UnknownGateError
from lanes.model import Camera, CameraRole, Direction, Gate, Lane, LaneKind

__all__ = ["HUU_NGHI", "UnknownGateError", "default_gates", "get_gate"]

_HN = "huu-nghi"
_EXP, _IMP = Direction.EXPORT, Direction.IMPORT
_APPROACH, _GATE_IN = CameraRole.APPROACH, CameraRole.GATE_IN
_STANDARD, _SCANNER = LaneKind.STANDARD, LaneKind.SCANNER
_INSPECTION, _HAZMAT = LaneKind.INSPECTION, LaneKind.HAZMAT


def _min(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)


HUU_NGHI = Gate(
    gate_id=_HN,
    name="Huu Nghi - Youyiguan",
    cameras=(
        Camera("hn-exp-approach-1", _HN, _EXP, _APPROACH),
        Camera("hn-exp-gate-1", _HN, _EXP, _GATE_IN),
        Camera("hn-exp-gate-2", _HN, _EXP, _GATE_IN),
        Camera("hn-imp-approach-1", _HN, _IMP, _APPROACH),
        Camera("hn-imp-gate-1", _HN, _IMP, _GATE_IN),
        Camera("hn-imp-gate-2", _HN, _IMP, _GATE_IN),
    ),
    lanes=(
        Lane("HN-E1", _HN, _EXP, _STANDARD, _min(10)),
        Lane("HN-E2", _HN, _EXP, _STANDARD, _min(10)),
        Lane("HN-E3", _HN, _EXP, _SCANNER, _min(6)),
        Lane("HN-E4", _HN, _EXP, _INSPECTION, _min(45)),
        Lane("HN-E5", _HN, _EXP, _HAZMAT, _min(20)),
        Lane("HN-I1", _HN, _IMP, _STANDARD, _min(10)),
        Lane("HN-I2", _HN, _IMP, _STANDARD, _min(10)),
        Lane("HN-I3", _HN, _IMP, _SCANNER, _min(6)),
        Lane("HN-I4", _HN, _IMP, _INSPECTION, _min(45)),
        Lane("HN-I5", _HN, _IMP, _HAZMAT, _min(20)),
    ),
    visit_window=_min(10),
)

_GATES: Mapping[str, Gate] = MappingProxyType({HUU_NGHI.gate_id: HUU_NGHI})


def default_gates() -> Mapping[str, Gate]:
    """Every configured gate by gate_id (read-only)."""
    return _GATES


def get_gate(gate_id: str) -> Gate:
    """The gate `gate_id`; raises UnknownGateError (a DomainError) if none is configured."""
    gate = _GATES.get(gate_id)
    if gate is None:
        raise UnknownGateError(gate_id, tuple(sorted(_GATES)))
    return gate
