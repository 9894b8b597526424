"""Injected anomalies with their ground truth (issue 22), for the alert rules' bench.

Given an ordinary simulated day (`plan_traffic`), adds what the alert rules read and the
plan lacks (exit-camera reads, the OCR portal's container numbers, weigh-in-motion
weighings, manifest versions with declared weights, booking changes), then injects
`per_kind` anomalies of every kind, each recorded with the (rule, subject) it should raise
and every subject it touches. Pure and seeded from its own stream
(`random.Random(f"anomalies:{seed}")`): the ordinary plan's draws are not disturbed.

Assumptions (no source): exits 10-55 min after the gate-in read; portals read every
declared container; weigh-in-motion within +-9% of the declared weight (sd 3%); half the
trucks with a manifest book, 8% of bookings are no-shows, 5% are cancelled; benign
amendments come 2-20 h before arrival. Trailer swaps are not injected: a plate read has no
field for a rear camera's trailer plate yet (the rule handles `Sighting.trailer_plates`).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from lanes.alerts import BookingChange, BookingKind, ManifestVersion
from lanes.model import CameraRole, Direction, Gate, Manifest
from services.simulation.containers import random_container
from services.simulation.plates import misread
from streams.events import CandidateV1, PlateReadV1
from streams.weigh import WeighInMotionV1

KINDS = (
    "cloned_plate",
    "swap",
    "containers_unread",
    "lost_truck",
    "late_amendment",
    "overweight",
    "no_show_rate",
    "rebook_jump",
    "booking_burst",
)

DEMO_ANOMALY_RATE = 0.01  # `borderflow up`: share of the simulated trucks with an anomaly


@dataclass(frozen=True, slots=True)
class AnomalySpec:
    per_kind: int = 10
    noise: float = 0.1  # share of exit and weigh-station reads with one OCR mistake


@dataclass(frozen=True, slots=True)
class Injected:
    rule: str
    subject: str  # what the rule's alert should name
    touches: tuple[str, ...]  # every subject the anomaly involves (its truck, its manifest)
    detail: str


@dataclass(frozen=True, slots=True)
class AnomalyWorld:
    injected: tuple[Injected, ...]
    manifest_versions: tuple[ManifestVersion, ...]
    weighings: tuple[WeighInMotionV1, ...]
    bookings: tuple[BookingChange, ...]


def event_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def simple_read(
    rng: random.Random, plate: str, camera_id: str, at: datetime, noise: float
) -> PlateReadV1:
    """A read of `plate` (normalised); a share `noise` with one mistake, the plate second."""
    wrong = misread(plate, rng) if rng.random() < noise else None
    texts = [plate] if wrong is None else [wrong, plate]
    confidence = rng.uniform(0.6, 0.85) if wrong else rng.uniform(0.75, 0.99)
    return PlateReadV1(
        event_id=event_id(rng),
        camera_id=camera_id,
        captured_at=at,
        plate_text=texts[0],
        confidence=round(confidence, 3),
        candidates=[
            CandidateV1(text=t, confidence=round(confidence / (i + 1), 3))
            for i, t in enumerate(texts)
        ],
    )


def camera_of(gate: Gate, direction: Direction, role: CameraRole) -> list[str]:
    return [c.camera_id for c in gate.cameras if c.direction is direction and c.role is role]


def booking(
    rng: random.Random, m: Manifest, kind: BookingKind, at: datetime, slot: datetime, **kw: str
) -> BookingChange:
    return BookingChange(
        event_id=event_id(rng),
        booking_id=kw.get("booking_id", f"bk-{m.manifest_id}"),
        firm_id=kw.get("firm_id", m.firm_id),
        manifest_id=m.manifest_id,
        gate_id=kw["gate_id"],
        kind=kind,
        at=at,
        slot_start=slot,
        key_id=kw.get("key_id", f"key-{m.firm_id}"),
    )


def with_weight(m: Manifest, rng: random.Random) -> Manifest:
    return replace(m, gross_weight_kg=float(rng.randrange(12_000, 40_000, 100)))


def fresh_container(rng: random.Random) -> str:
    return random_container(rng)
