"""Value objects of the domain: frozen, slotted, comparable, no I/O. The basic words
(directions, states, daily hours, the manifest) live in `lanes.values` and are re-exported
here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from lanes.values import (
    ALWAYS,
    BookingStatus,
    CameraRole,
    CustomsChannel,
    CustomsStatus,
    DailyHours,
    Direction,
    Manifest,
)

if TYPE_CHECKING:
    from lanes.alert_rules import AlertRules
    from lanes.bookings import BookingRules

__all__ = [
    "ALWAYS",
    "Assignment",
    "BookingStatus",
    "Camera",
    "CameraRole",
    "Candidate",
    "CargoClass",
    "Carrier",
    "CarrierFleet",
    "CustomsChannel",
    "CustomsStatus",
    "DailyHours",
    "Direction",
    "Gate",
    "Lane",
    "LaneDecision",
    "LaneKind",
    "Manifest",
    "MatchOutcome",
    "MatchResult",
    "Outcome",
    "PlateRead",
    "ScoredManifest",
    "TransferYard",
    "Visit",
    "WaitingArea",
]


class LaneKind(StrEnum):
    STANDARD = "standard"
    SCANNER = "scanner"
    INSPECTION = "inspection"
    HAZMAT = "hazmat"


class CargoClass(StrEnum):
    """What a lane may take: a truck's cargo is one or more of these."""

    GENERAL = "general"
    CONTAINER = "container"
    PERISHABLE = "perishable"
    HAZMAT = "hazmat"


class Outcome(StrEnum):
    """What a lane decision tells the truck."""

    ASSIGNED = "assigned"
    NEEDS_REVIEW = "needs_review"
    REFUSED = "refused"


class MatchOutcome(StrEnum):
    """What the matcher made of a visit's reads against the open manifests."""

    MATCHED = "matched"  # one manifest, clear of the runner-up, cleared, in its window
    AMBIGUOUS = "ambiguous"  # two or more manifests too close to tell apart: never guess
    UNKNOWN = "unknown"  # no manifest close enough
    UNREADABLE = "unreadable"  # no read carried any plate text
    MISMATCH = "mismatch"  # the plate fits, but direction, trailer or a container does not
    NOT_CLEARED = "not_cleared"  # the manifest's customs status is pending
    OUTSIDE_WINDOW = "outside_window"  # early or late against the manifest's window


@dataclass(frozen=True, slots=True)
class Candidate:
    text: str
    confidence: float


@dataclass(frozen=True, slots=True)
class PlateRead:
    """One camera's reading of one plate, as the domain sees it."""

    event_id: str
    camera_id: str
    captured_at: datetime
    plate_text: str
    confidence: float
    candidates: tuple[Candidate, ...] = ()
    # one per character of the normalised plate_text, when the camera's OCR gives them
    char_confidences: tuple[float, ...] | None = None
    # container numbers a gate OCR portal read on the truck, if any
    container_numbers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Camera:
    camera_id: str
    gate_id: str
    direction: Direction
    role: CameraRole

    @property
    def sees_arrivals(self) -> bool:
        """Whether a truck read here may be arriving, to be given a lane: every camera but
        the exit's. A truck read only at the exit has been through the gate; it is recorded
        (the alert rules count its passes), never decided again."""
        return self.role is not CameraRole.EXIT


@dataclass(frozen=True, slots=True)
class Lane:
    lane_id: str
    gate_id: str
    direction: Direction
    kind: LaneKind
    service_time: timedelta  # the mean
    service_sd: timedelta = timedelta(0)  # lognormal spread around the mean
    accepts: frozenset[CargoClass] = frozenset(CargoClass)
    channels: frozenset[CustomsChannel] = frozenset(CustomsChannel)
    hours: DailyHours = ALWAYS


@dataclass(frozen=True, slots=True)
class TransferYard:
    """Where a tractor hands its container to the autonomous carriers and leaves."""

    yard_id: str
    name: str
    bays: int  # tractors handing over at once
    handover: timedelta  # mean time a tractor spends at a bay
    handover_sd: timedelta = timedelta(0)
    capacity: int = 40  # containers waiting for a carrier, at most


@dataclass(frozen=True, slots=True)
class Carrier:
    carrier_id: str
    charging: DailyHours  # when it is on charge (not running)


@dataclass(frozen=True, slots=True)
class CarrierFleet:
    """Autonomous container carriers on the closed corridor. A round trip takes a container
    each way (export out, import back) when there is one."""

    carriers: tuple[Carrier, ...]
    round_trip: timedelta  # mean, loading and unloading included
    round_trip_sd: timedelta = timedelta(0)
    containers_per_trip: int = 1
    hours: DailyHours = ALWAYS  # operating hours
    yard: TransferYard | None = None


@dataclass(frozen=True, slots=True)
class WaitingArea:
    """Where trucks of one direction wait off the approach road until called forward to the
    gate (issue 23): read by `camera_id` (or checked in with their booking), `capacity`
    trucks at most (more wait on the road), `drive_time` from it to the gate. A truck is
    called when its lane or carrier slot is expected free within `drive_time + call_lead`
    (the lead only while as many trucks wait uncalled for the truck's kind of lane as that
    kind has open lanes: `lanes.policy.callplaces.backlogged`);
    one that has not reached the gate `drive_time + arrival_grace` after its call is
    recalled once, then loses its place. An area read (or check-in) of a truck less than
    `reentry` after its read at the gate is of the truck that left the area (a camera's
    clock a little off, or the truck seen from the area's camera as it drives on), not a new
    arrival: a truck turned away at the gate drives out and back through the area, which
    takes longer (at Huu Nghi, 5 minutes' drive each way: 10 minutes). Call-forward's own,
    not the decider's `Gate.visit_window`, which groups reads at the gate into visits."""

    area_id: str
    name: str
    direction: Direction
    camera_id: str
    capacity: int
    drive_time: timedelta
    call_lead: timedelta = timedelta(0)
    arrival_grace: timedelta = timedelta(minutes=10)
    reentry: timedelta = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Gate:
    gate_id: str
    name: str
    cameras: tuple[Camera, ...]
    lanes: tuple[Lane, ...]
    # Reads of the same plate at the gate closer than this belong to one visit.
    visit_window: timedelta = timedelta(minutes=10)
    utc_offset: timedelta = timedelta(hours=7)  # local time, for open hours
    fleet: CarrierFleet | None = None
    # from the approach camera to the gate (what a truck spends before any queue)
    approach_time: timedelta = timedelta(minutes=1)
    # crossing slots firms may book (lanes/bookings.py); None: the gate takes no bookings
    booking: BookingRules | None = None
    # the risk-alert rules' parameters (lanes/alerts); None: `AlertRules()`'s defaults
    alert_rules: AlertRules | None = None
    # waiting areas trucks are called forward from (at most one a direction; issue 23)
    waiting_areas: tuple[WaitingArea, ...] = ()

    def waiting_area(self, direction: Direction) -> WaitingArea | None:
        return next((a for a in self.waiting_areas if a.direction is direction), None)

    def camera(self, camera_id: str) -> Camera | None:
        for camera in self.cameras:
            if camera.camera_id == camera_id:
                return camera
        return None

    def lanes_for(self, direction: Direction) -> tuple[Lane, ...]:
        return tuple(lane for lane in self.lanes if lane.direction is direction)


@dataclass(frozen=True, slots=True)
class Visit:
    """One truck's pass through the gate: every read of one plate within the visit window."""

    visit_id: str
    gate_id: str
    direction: Direction
    plate: str
    first_seen_at: datetime
    last_seen_at: datetime
    read_event_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScoredManifest:
    """A manifest the matcher weighed: its score in [0, 1] and the reads' closest text."""

    manifest_id: str
    plate: str
    score: float
    closest_read: str


@dataclass(frozen=True, slots=True)
class MatchResult:
    """`manifest` is the manifest the reads were attributed to, whatever the outcome; None
    when no single manifest was identified (unknown, ambiguous, unreadable)."""

    outcome: MatchOutcome
    manifest: Manifest | None
    score: float
    evidence: str
    candidates: tuple[ScoredManifest, ...] = ()


@dataclass(frozen=True, slots=True)
class Assignment:
    outcome: Outcome
    lane_id: str | None
    reason: str
    expected_start_at: datetime | None = None
    expected_done_at: datetime | None = None
    # an autonomous-carrier slot instead of a lane: the tractor hands over at the yard
    carrier_slot: str | None = None


@dataclass(frozen=True, slots=True)
class LaneDecision:
    decision_id: str
    visit_id: str
    gate_id: str
    plate: str
    manifest_id: str | None
    outcome: Outcome
    match_outcome: MatchOutcome
    lane_id: str | None
    reason: str
    decided_at: datetime
    read_event_ids: tuple[str, ...]
    carrier_slot: str | None = None
    expected_start_at: datetime | None = None
    expected_done_at: datetime | None = None
    match_score: float = 0.0
    # the manifests the matcher weighed, best first: the evidence a reviewer sees
    match_candidates: tuple[ScoredManifest, ...] = ()
    # 0 for the first decision on a visit; each re-plan (lane closed, carrier out) adds one
    revision: int = 0
