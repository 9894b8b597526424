"""The topics borderflow owns: name, partitions, key and purpose, in one place.

Partition counts are those of the embedded broker and the tests; production counts are
set in deploy/ (issue 9). Every topic has a dead-letter twin `<topic>.dlq`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    key: str
    purpose: str

    @property
    def dlq(self) -> TopicSpec:
        return TopicSpec(
            name=dead_letter_topic(self.name),
            partitions=1,
            key=self.key,
            purpose=f"dead letters of {self.name}: original bytes, reason in headers",
        )


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


PLATE_READS = TopicSpec(
    name="borderflow.plate-reads",
    partitions=6,
    key="camera_id",
    purpose="plate reads from cameras or plate_recognition/ (enveloped or plain JSON)",
)
LANE_DECISIONS = TopicSpec(
    name="borderflow.lane-decisions",
    partitions=6,
    key="visit_id",
    purpose="one decision per truck visit: lane, review or refusal, with its reason",
)

MANIFESTS = TopicSpec(
    name="borderflow.manifests",
    partitions=3,
    key="manifest_id",
    purpose="electronic manifests from firms' systems: the intake form, bare or enveloped; "
    "each record keyed by its manifest_id as stored (the blanks around it dropped), which "
    "keeps a manifest's versions in order on one partition (a record keyed otherwise, or "
    "not at all, is filed all the same and counted in borderflow_events_miskeyed)",
)

LANE_EVENTS = TopicSpec(
    name="borderflow.lane-events",
    partitions=3,
    key="gate_id",
    purpose="what happens at the gate: trucks entering and leaving lanes, lanes opened and "
    "closed, carriers out of service or back; a gate's events stay in order when each "
    "record is keyed by its gate_id (one keyed otherwise is applied all the same and "
    "counted in borderflow_events_miskeyed)",
)

BOOKINGS = TopicSpec(
    name="borderflow.bookings",
    partitions=3,
    key="booking_id",
    purpose="every change of a crossing-slot booking: created, rescheduled, cancelled, "
    "used, no_show, lost_late (streams/bookings.py); a booking's events stay in order",
)

CAMERA_FRAMES = TopicSpec(
    name="borderflow.camera-frames",
    partitions=6,
    key="camera_id",
    purpose="camera frames for the recognizer: an image reference or inline JPEG bytes, "
    "camera id and capture time (plate_recognition/, issue 8)",
)

CONTROLLER_ACTIONS = TopicSpec(
    name="borderflow.controller-actions",
    partitions=3,
    key="gate_id",
    purpose="what lane controllers did in the control room (confirm a plate, pick a "
    "manifest, reassign, open or close a lane, hold or release a truck, turn a truck "
    "away), each with who and why",
)

ALERTS = TopicSpec(
    name="borderflow.alerts",
    partitions=3,
    key="gate_id",
    purpose="risk alerts for controllers (lanes/alerts, issue 22): raised by the decider's "
    "alert step, then each change of their status (acknowledged, escalated, dismissed); a "
    "gate's alerts stay in order",
)

WEIGH_IN_MOTION = TopicSpec(
    name="borderflow.weigh-in-motion",
    partitions=3,
    key="station_id",
    purpose="weigh-in-motion stations' measures of passing trucks (streams/weigh.py), bare "
    "or enveloped; stored by the intake worker for the overweight rule",
)

CALLS = TopicSpec(
    name="borderflow.calls",
    partitions=3,
    key="visit_id",
    purpose="trucks called forward from a waiting area, recalled, or that lost their place "
    "(issue 23, streams/calls.py); the notifier sends each call once, by call_id",
)

SOURCE_TOPICS: tuple[TopicSpec, ...] = (
    PLATE_READS,
    LANE_DECISIONS,
    MANIFESTS,
    LANE_EVENTS,
    BOOKINGS,
    CAMERA_FRAMES,
    CONTROLLER_ACTIONS,
    ALERTS,
    WEIGH_IN_MOTION,
    CALLS,
)


def all_topics() -> tuple[TopicSpec, ...]:
    """Every topic to create at start-up, dead-letter topics included."""
    return SOURCE_TOPICS + tuple(spec.dlq for spec in SOURCE_TOPICS)
