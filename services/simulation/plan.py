"""The simulated day: trucks arriving at a gate, their manifests and their plate reads.

Pure and deterministic: one `random.Random(seed)`, times computed from `start`; the same
arguments give the same plan, read for read.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from lanes.model import CameraRole, Direction, Gate, Manifest
from lanes.plates import normalise_plate
from services.simulation.anomalies import AnomalySpec, AnomalyWorld
from services.simulation.cargo import random_manifest
from services.simulation.inject import inject
from services.simulation.plates import SimPlate, alternatives, cn_plate, misread, vn_plate
from streams.events import CandidateV1, PlateReadV1

PEAK_HOURS = range(7, 19)  # 07:00-19:00 on the gate's clock (its utc_offset): most trucks
OFF_PEAK_WEIGHT = 0.35  # relative arrival rate outside the peak
EXPORT_SHARE = 0.6
TRAILER_SHARE = 0.85


@dataclass(frozen=True, slots=True)
class SimulatedTruck:
    """The ground truth of one truck, to score what the system made of its reads."""

    truck_no: int
    direction: Direction
    plate: str  # normalised tractor plate
    arrival: datetime
    manifest_id: str | None
    read_ids: tuple[str, ...]
    noisy_read_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TrafficPlan:
    manifests: tuple[Manifest, ...]
    reads: tuple[PlateReadV1, ...]  # sorted by (captured_at, event_id)
    trucks: tuple[SimulatedTruck, ...] = ()
    # with `plan_traffic(anomalies=...)` only: what the alert rules read besides the reads,
    # and the ground truth of the injected anomalies (services/simulation/anomalies.py)
    anomalies: AnomalyWorld | None = None


@dataclass(frozen=True, slots=True)
class _Cameras:
    approach: tuple[str, ...]
    gate_in: tuple[str, ...]


def plan_traffic(
    *,
    gate: Gate,
    trucks: int,
    start: datetime,
    seed: int,
    span: timedelta = timedelta(hours=24),
    unknown_share: float = 0.05,
    noise: float = 0.1,
    anomalies: AnomalySpec | None = None,
) -> TrafficPlan:
    """`trucks` trucks arriving over `span` from `start` (peak 07:00-19:00 local time),
    ~60% export; `unknown_share` of them without a manifest; each read 2-5 times, a share
    `noise` of the reads with one OCR mistake (the true plate then among the candidates).

    `anomalies`: also exit reads, portal container numbers, weighings, bookings and manifest
    versions, with anomalies of every kind injected (their own random stream: the ordinary
    part of the plan is the same as without)."""
    _check(trucks=trucks, start=start, span=span, unknown_share=unknown_share, noise=noise)
    rng = random.Random(seed)
    cameras = _cameras(gate)
    directions = tuple(cameras)
    local = timezone(gate.utc_offset)
    offsets = sorted(_arrival_offset(rng, start, span, local) for _ in range(trucks))
    used_plates: set[str] = set()
    manifests: list[Manifest] = []
    reads: list[PlateReadV1] = []
    planned: list[SimulatedTruck] = []
    for truck_no, offset in enumerate(offsets, start=1):
        if len(directions) == 1:
            direction = directions[0]
        else:
            direction = Direction.EXPORT if rng.random() < EXPORT_SHARE else Direction.IMPORT
        tractor = _unique_plate(rng, direction, used_plates)
        trailer = _trailer(rng, direction, tractor)
        arrival = start + offset
        manifest_id = None
        if rng.random() >= unknown_share:
            manifest_id = f"MF-{seed}-{len(manifests) + 1:05d}"
            manifests.append(
                random_manifest(
                    rng,
                    manifest_id=manifest_id,
                    direction=direction,
                    tractor_plate=tractor.text,
                    trailer_plate=trailer,
                    arrival=arrival,
                )
            )
        truck_reads, noisy = _truck_reads(rng, tractor, cameras[direction], arrival, noise)
        reads.extend(truck_reads)
        planned.append(
            SimulatedTruck(
                truck_no=truck_no,
                direction=direction,
                plate=tractor.text,
                arrival=arrival,
                manifest_id=manifest_id,
                read_ids=tuple(r.event_id for r in truck_reads),
                noisy_read_ids=noisy,
            )
        )
    reads.sort(key=lambda r: (r.captured_at, r.event_id))
    plan = TrafficPlan(manifests=tuple(manifests), reads=tuple(reads), trucks=tuple(planned))
    if anomalies is None:
        return plan
    all_reads, final, world = inject(
        gate=gate,
        manifests=plan.manifests,
        reads=plan.reads,
        trucks=plan.trucks,
        spec=anomalies,
        seed=seed,
        end=start + span,
    )
    return TrafficPlan(manifests=final, reads=all_reads, trucks=plan.trucks, anomalies=world)


def plan_summary(plan: TrafficPlan) -> dict[str, int]:
    """Counts for a log line: trucks, reads, manifests, unknown trucks, noisy reads."""
    return {
        "trucks": len(plan.trucks),
        "reads": len(plan.reads),
        "manifests": len(plan.manifests),
        "unknown_trucks": sum(1 for t in plan.trucks if t.manifest_id is None),
        "noisy_reads": sum(len(t.noisy_read_ids) for t in plan.trucks),
        "export": sum(1 for t in plan.trucks if t.direction is Direction.EXPORT),
        "import": sum(1 for t in plan.trucks if t.direction is Direction.IMPORT),
    }


def _check(
    *, trucks: int, start: datetime, span: timedelta, unknown_share: float, noise: float
) -> None:
    if trucks < 0:
        raise ValueError(f"trucks must be >= 0, got {trucks}")
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"start must be timezone-aware, got {start!r}")
    if span <= timedelta(0):
        raise ValueError(f"span must be positive, got {span}")
    for name, share in (("unknown_share", unknown_share), ("noise", noise)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be within [0, 1], got {share}")


def _cameras(gate: Gate) -> dict[Direction, _Cameras]:
    """Per direction that has both, the approach and gate-in cameras of `gate`."""
    found: dict[Direction, _Cameras] = {}
    for direction in (Direction.EXPORT, Direction.IMPORT):
        approach, gate_in = (
            tuple(c.camera_id for c in gate.cameras if c.direction is direction and c.role is role)
            for role in (CameraRole.APPROACH, CameraRole.GATE_IN)
        )
        if approach and gate_in:
            found[direction] = _Cameras(approach, gate_in)
    if not found:
        raise ValueError(
            f"gate {gate.gate_id!r} has no direction with approach and gate-in cameras: the "
            "traffic simulator reads each truck at both (add an approach camera to the gate "
            "file's cameras, or run `borderflow up --no-simulator`)"
        )
    return found


def check_traffic_gate(gate: Gate) -> None:
    """Raises ValueError when the traffic simulator cannot drive `gate` (no direction with
    an approach and a gate-in camera), so that `borderflow up` says so before it starts."""
    _cameras(gate)


def _arrival_offset(
    rng: random.Random, start: datetime, span: timedelta, local: timezone
) -> timedelta:
    """An arrival time in [0, span), off-peak hours (on the gate's clock, `local`) thinned
    out (rejection sampling)."""
    span_ms = max(1, span // timedelta(milliseconds=1))
    while True:
        offset = timedelta(milliseconds=rng.randrange(span_ms))
        if (start + offset).astimezone(local).hour in PEAK_HOURS:
            return offset
        if rng.random() < OFF_PEAK_WEIGHT:
            return offset


def _unique_plate(rng: random.Random, direction: Direction, used: set[str]) -> SimPlate:
    """A tractor plate no other truck of the plan carries."""
    while True:
        plate = vn_plate(rng) if direction is Direction.EXPORT else cn_plate(rng)
        if plate.text not in used:
            used.add(plate.text)
            return plate


def _trailer(rng: random.Random, direction: Direction, tractor: SimPlate) -> str | None:
    if rng.random() >= TRAILER_SHARE:
        return None
    if direction is Direction.EXPORT:
        return vn_plate(rng, series="R", province=tractor.text[:2]).text
    return cn_plate(rng, trailer=True).text


def _truck_reads(
    rng: random.Random, plate: SimPlate, cameras: _Cameras, arrival: datetime, noise: float
) -> tuple[list[PlateReadV1], tuple[str, ...]]:
    """1-3 frames at the approach camera, then 1-2 at a gate-in camera 30 s to 3 min later."""
    shots: list[tuple[str, datetime]] = []
    camera, at = rng.choice(cameras.approach), arrival
    for _ in range(rng.randint(1, 3)):
        shots.append((camera, at))
        at += timedelta(milliseconds=rng.randint(200, 4_000))
    camera = rng.choice(cameras.gate_in)
    at = arrival + timedelta(milliseconds=rng.randint(30_000, 180_000))
    for _ in range(rng.randint(1, 2)):
        shots.append((camera, at))
        at += timedelta(milliseconds=rng.randint(200, 4_000))
    reads: list[PlateReadV1] = []
    noisy: list[str] = []
    for camera_id, captured_at in shots:
        read, is_noisy = _read(rng, plate, camera_id, captured_at, noise)
        reads.append(read)
        if is_noisy:
            noisy.append(read.event_id)
    return reads, tuple(noisy)


def _read(
    rng: random.Random, plate: SimPlate, camera_id: str, captured_at: datetime, noise: float
) -> tuple[PlateReadV1, bool]:
    event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    printed = rng.choice(plate.forms)
    wrong = misread(printed, rng) if rng.random() < noise else None
    if wrong is None:
        confidence = rng.uniform(0.75, 0.99)
        texts = [printed, *alternatives(printed, rng, count=rng.randint(1, 2), avoid={plate.text})]
    else:
        confidence = rng.uniform(0.6, 0.85)
        avoid = {plate.text, normalise_plate(wrong)}
        texts = [wrong, printed, *alternatives(printed, rng, count=rng.randint(0, 1), avoid=avoid)]
    candidates = []
    for text in texts:
        candidates.append(CandidateV1(text=text, confidence=round(confidence, 3)))
        confidence *= rng.uniform(0.5, 0.95)
    read = PlateReadV1(
        event_id=event_id,
        camera_id=camera_id,
        captured_at=captured_at,
        plate_text=texts[0],
        confidence=candidates[0].confidence,
        candidates=candidates,
    )
    return read, wrong is not None
