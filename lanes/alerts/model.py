"""What the alert rules read (sightings, manifest versions, weighings, booking changes),
their parameters, and the alert they raise. Frozen values, no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from lanes.ids import stable_id
from lanes.values import CameraRole, Direction, Manifest


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


# rule id -> (severity, whether the truck is held until a controller looks)
RULES: dict[str, tuple[Severity, bool]] = {
    "cloned_plate": (Severity.HIGH, True),
    "swap": (Severity.HIGH, True),
    "containers_unread": (Severity.MEDIUM, False),
    "lost_truck": (Severity.HIGH, False),
    "late_amendment": (Severity.MEDIUM, True),
    "customs_pending": (Severity.HIGH, True),
    "overweight": (Severity.MEDIUM, True),
    "no_show_rate": (Severity.LOW, False),
    "rebook_jump": (Severity.MEDIUM, False),
    "booking_burst": (Severity.MEDIUM, False),
}


@dataclass(frozen=True, slots=True)
class Sighting:
    """One plate read at a camera, resolved to its normalised plate; `alternatives` are the
    read's other candidates (normalised), `containers` what an OCR portal read on the truck,
    `trailer_plates` the trailer plates a rear camera read with it."""

    event_id: str
    gate_id: str
    camera_id: str
    role: CameraRole
    direction: Direction
    at: datetime
    plate: str
    alternatives: tuple[str, ...] = ()
    containers: tuple[str, ...] = ()
    trailer_plates: tuple[str, ...] = ()

    def shows(self, plate: str) -> bool:
        return plate == self.plate or plate in self.alternatives


# a version that reached us before any read did counts from the start of the events' clock
FROM_THE_START = datetime.min.replace(tzinfo=UTC)
# how long after its crossing window's end the events' clock must be for a version stored
# then to be about a day the clock has left behind (`stored_at_clock`)
DAY_LEFT_BEHIND = timedelta(hours=12)


def stored_at_clock(clock: datetime | None, window_end: datetime | None) -> datetime | None:
    """The events' clock a manifest version stored now counts from, `clock` being the
    system's (the newest read decided; None before any). A version whose crossing window
    ended more than `DAY_LEFT_BEHIND` before that clock describes a day the clock has left
    behind: a day of reads and manifests sent after a later one (a recorded day sent again,
    an acceptance day run after another). It counts from the start (None), else the
    rules would take it as filed after its own trucks and stay silent for that day. A
    truck that is read now, more than 12 hours after its window, sees it as filed before
    it came; its late amendment goes unseen (docs/alerts.md)."""
    if clock is None or window_end is None or clock <= window_end + DAY_LEFT_BEHIND:
        return clock
    return None


@dataclass(frozen=True, slots=True)
class ManifestVersion:
    """A manifest as it stood from `received_at`: when that version reached us, on the
    events' clock (the newest read by then; `FROM_THE_START` before any), never the wall
    clock, which the reads' event time cannot be compared with."""

    manifest: Manifest
    version: int
    received_at: datetime

    @staticmethod
    def counted_from(clock_at: datetime | None) -> datetime:
        """The `received_at` of a version stored at the events' clock `clock_at` (None:
        before any read)."""
        return FROM_THE_START if clock_at is None else clock_at


@dataclass(frozen=True, slots=True)
class WeighIn:
    """A weigh-in-motion station's measure of a passing truck (`streams.weigh`)."""

    event_id: str
    station_id: str
    gate_id: str
    at: datetime
    plate: str
    gross_weight_kg: float
    alternatives: tuple[str, ...] = ()


class BookingKind(StrEnum):
    CREATED = "created"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    USED = "used"
    NO_SHOW = "no_show"
    LOST_LATE = "lost_late"


@dataclass(frozen=True, slots=True)
class BookingChange:
    """One change of a booking; `key_id` is the API key that made it (None: not a firm's
    request, e.g. a no-show the decider recorded)."""

    event_id: str
    booking_id: str
    firm_id: str
    manifest_id: str
    gate_id: str
    kind: BookingKind
    at: datetime
    slot_start: datetime
    key_id: str | None = None


@dataclass(frozen=True, slots=True)
class Observations:
    sightings: tuple[Sighting, ...] = ()
    manifests: tuple[ManifestVersion, ...] = ()
    weighings: tuple[WeighIn, ...] = ()
    bookings: tuple[BookingChange, ...] = ()


@dataclass(frozen=True, slots=True)
class Alert:
    """A rule's finding: `subject` names what it is about (`plate:...`, `manifest:...`,
    `firm:...`, `key:...`), `evidence` the ids of the events it rests on, `explanation`
    says why in words. `raised_at` is event time: when the evidence was complete."""

    alert_id: str
    rule: str
    severity: Severity
    subject: str
    gate_id: str | None
    raised_at: datetime
    explanation: str
    evidence: tuple[str, ...]
    hold: bool = False


def make_alert(
    rule: str,
    subject: str,
    *,
    gate_id: str | None,
    raised_at: datetime,
    explanation: str,
    evidence: tuple[str, ...],
) -> Alert:
    """An alert with its rule's severity and hold, and an id derived from rule and subject
    (one open alert per subject and rule: the same id again is the same alert)."""
    severity, hold = RULES[rule]
    return Alert(
        alert_id=stable_id("al", rule, subject),
        rule=rule,
        severity=severity,
        subject=subject,
        gate_id=gate_id,
        raised_at=raised_at,
        explanation=explanation,
        evidence=evidence,
        hold=hold,
    )
