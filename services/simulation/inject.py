"""Builds an anomalous day (see `anomalies.py` for what and why)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from lanes.alerts import BookingChange, BookingKind, ManifestVersion
from lanes.model import CameraRole, Direction, Gate, Manifest
from services.simulation.anomalies import (
    KINDS,
    AnomalySpec,
    AnomalyWorld,
    Injected,
    booking,
    camera_of,
    event_id,
    simple_read,
    with_weight,
)
from services.simulation.containers import random_container
from streams.events import PlateReadV1
from streams.weigh import WeighInMotionV1

if TYPE_CHECKING:
    from services.simulation.plan import SimulatedTruck

MIN = timedelta(minutes=1)


def inject(  # noqa: PLR0915 (one pass over the trucks; to split along the kinds)
    *,
    gate: Gate,
    manifests: Sequence[Manifest],
    reads: Sequence[PlateReadV1],
    trucks: Sequence[SimulatedTruck],
    spec: AnomalySpec,
    seed: int,
    end: datetime,
) -> tuple[tuple[PlateReadV1, ...], tuple[Manifest, ...], AnomalyWorld]:
    rng = random.Random(f"anomalies:{seed}")
    gid = gate.gate_id
    current = {m.manifest_id: with_weight(m, rng) for m in manifests}
    by_read = {r.event_id: r for r in reads}
    versions: list[ManifestVersion] = []
    arrival_of: dict[str, datetime] = {}
    for t in trucks:
        if t.manifest_id is not None:
            arrival_of[t.manifest_id] = t.arrival
    for mid, first in list(current.items()):
        arrival = arrival_of[mid]
        versions.append(ManifestVersion(first, 1, arrival - timedelta(hours=rng.uniform(3, 48))))
        if rng.random() < 0.1:  # a benign amendment, hours ahead
            current[mid] = replace(first, cargo_description=first.cargo_description + " (revised)")
            at = arrival - timedelta(hours=rng.uniform(2, 20))
            versions.append(ManifestVersion(current[mid], 2, max(at, versions[-1].received_at)))
    injected: list[Injected] = []
    # anomalous trucks: distinct, with a manifest, early enough for a lost truck to show
    eligible = [t for t in trucks if t.manifest_id and t.arrival < end - timedelta(hours=3)]
    picks = rng.sample(eligible, min(len(eligible), 6 * spec.per_kind * 2))
    with_boxes = [t for t in picks if current[t.manifest_id or ""].containers]
    plain = [t for t in picks if t not in with_boxes]
    take = iter(with_boxes)
    swap = {next(take).truck_no for _ in range(spec.per_kind)}
    unread = {next(take).truck_no for _ in range(spec.per_kind)}
    rest = iter([*take, *plain])
    lost = {next(rest).truck_no for _ in range(spec.per_kind)}
    amended = {next(rest).truck_no for _ in range(spec.per_kind)}
    heavy = {next(rest).truck_no for _ in range(spec.per_kind)}
    cloned = [next(rest) for _ in range(spec.per_kind)]

    out: list[PlateReadV1] = []
    weighings: list[WeighInMotionV1] = []
    for t in trucks:
        m = current.get(t.manifest_id or "")
        tag = (f"plate:{t.plate}",) + ((f"manifest:{m.manifest_id}",) if m else ())
        if t.truck_no in amended and m is not None:
            field = rng.choice(("trailer_plate", "cargo_description"))
            new = (
                replace(m, trailer_plate=_another_trailer(m.trailer_plate))
                if field == "trailer_plate"
                else replace(m, cargo_description="used tyres")
            )
            ahead = timedelta(minutes=rng.uniform(5, 50))
            last = max(v.version for v in versions if v.manifest.manifest_id == new.manifest_id)
            versions.append(ManifestVersion(new, last + 1, t.arrival - ahead))
            current[new.manifest_id] = m = new
            injected.append(Injected("late_amendment", tag[1], tag, f"{field} {ahead}"))
        boxes = m.containers if m else ()
        if t.truck_no in swap:
            boxes = (random_container(rng), *boxes[1:])
            injected.append(Injected("swap", tag[1], tag, f"read {boxes[0]}"))
        if t.truck_no in unread:
            boxes = ()
            injected.append(Injected("containers_unread", tag[1], tag, "portal read none"))
        gate_at = t.arrival
        for rid in t.read_ids:
            r = by_read[rid]
            role = gate.camera(r.camera_id)
            if role is not None and role.role is CameraRole.GATE_IN:
                r = r.model_copy(update={"container_numbers": list(boxes)})
                gate_at = max(gate_at, r.captured_at)
            out.append(r)
        if t.truck_no in lost:
            injected.append(Injected("lost_truck", tag[0], tag, "no exit"))
        else:
            dwell = rng.uniform(30 if t in cloned else 10, 55) * MIN
            out += _exit(rng, gate, t.plate, t.direction, gate_at + dwell, spec=spec)
        declared = m.gross_weight_kg if m and m.gross_weight_kg else rng.uniform(12e3, 40e3)
        factor = min(max(rng.gauss(1.0, 0.03), 0.91), 1.09)
        if t.truck_no in heavy:
            factor = rng.uniform(1.25, 1.6)
            injected.append(Injected("overweight", tag[-1], tag, f"x{factor:.2f}"))
        weighings.append(
            _weigh(rng, gid, t.plate, t.arrival - 2 * MIN, declared * factor, spec=spec)
        )

    for t in cloned:
        m = current[t.manifest_id or ""]
        tag = (f"plate:{t.plate}", f"manifest:{m.manifest_id}")
        other = Direction.IMPORT if t.direction is Direction.EXPORT else Direction.EXPORT
        if camera_of(gate, other, CameraRole.APPROACH) and rng.random() < 0.5:
            direction, at = other, t.arrival + rng.uniform(40, 100) * MIN
        else:  # same way in while the original is still inside: its exit comes later
            direction, at = t.direction, t.arrival + rng.uniform(12, 25) * MIN
        out += _inbound(rng, gate, t.plate, direction, at, spec=spec)
        out += _exit(rng, gate, t.plate, direction, at + rng.uniform(12, 40) * MIN, spec=spec)
        injected.append(Injected("cloned_plate", tag[0], tag, f"{direction} at {at}"))

    bookings = _bookings(rng, gid, list(current.values()), arrival_of, spec=spec, injected=injected)
    world = AnomalyWorld(
        injected=tuple(sorted(injected, key=lambda i: (KINDS.index(i.rule), i.subject))),
        manifest_versions=tuple(versions),
        weighings=tuple(weighings),
        bookings=tuple(bookings),
    )
    out.sort(key=lambda r: (r.captured_at, r.event_id))
    return tuple(out), tuple(current.values()), world


def _inbound(
    rng: random.Random,
    gate: Gate,
    plate: str,
    direction: Direction,
    at: datetime,
    *,
    spec: AnomalySpec,
) -> list[PlateReadV1]:
    """A truck coming in: 1-3 approach reads, then 1-2 gate-in reads 30 s - 3 min later."""
    approach = rng.choice(camera_of(gate, direction, CameraRole.APPROACH))
    portal = rng.choice(camera_of(gate, direction, CameraRole.GATE_IN))
    shots = [(approach, at + i * 2 * timedelta(seconds=1)) for i in range(rng.randint(1, 3))]
    later = at + timedelta(seconds=rng.uniform(30, 180))
    shots += [(portal, later + i * 2 * timedelta(seconds=1)) for i in range(rng.randint(1, 2))]
    return [simple_read(rng, plate, cam, when, spec.noise) for cam, when in shots]


def _exit(
    rng: random.Random,
    gate: Gate,
    plate: str,
    direction: Direction,
    at: datetime,
    *,
    spec: AnomalySpec,
) -> list[PlateReadV1]:
    """1-2 reads at the direction's exit camera (none if the gate has no exit camera)."""
    cameras = camera_of(gate, direction, CameraRole.EXIT)
    if not cameras:
        return []
    camera = rng.choice(cameras)
    return [
        simple_read(rng, plate, camera, at + i * timedelta(seconds=2), spec.noise)
        for i in range(rng.randint(1, 2))
    ]


def _weigh(
    rng: random.Random, gate_id: str, plate: str, at: datetime, kg: float, *, spec: AnomalySpec
) -> WeighInMotionV1:
    read = simple_read(rng, plate, "wim", at, spec.noise)
    return WeighInMotionV1(
        event_id=event_id(rng),
        station_id=f"{gate_id}-wim-1",
        gate_id=gate_id,
        captured_at=at,
        plate_text=read.plate_text,
        plate_candidates=[c.text for c in read.candidates[1:]],
        gross_weight_kg=round(kg, 0),
    )


def _bookings(
    rng: random.Random,
    gate_id: str,
    manifests: list[Manifest],
    arrival_of: dict[str, datetime],
    *,
    spec: AnomalySpec,
    injected: list[Injected],
) -> list[BookingChange]:
    """Half the manifests booked (used or, 8%, a no-show), 5% cancelled (some rebooked
    later); then the booking anomalies."""
    out: list[BookingChange] = []
    hour = timedelta(hours=1)
    for m in manifests:
        if rng.random() >= 0.5:
            continue
        arrival = arrival_of[m.manifest_id]
        slot = arrival.replace(minute=0, second=0, microsecond=0)
        made = arrival - rng.uniform(2, 72) * hour
        out.append(booking(rng, m, BookingKind.CREATED, made, slot, gate_id=gate_id))
        draw = rng.random()
        if draw < 0.05:
            at = made + rng.uniform(0.1, 1) * hour
            out.append(booking(rng, m, BookingKind.CANCELLED, at, slot, gate_id=gate_id))
            if rng.random() < 0.5:  # rebooked, later in the day
                again = at + rng.uniform(1, 30) * MIN
                out.append(
                    booking(
                        rng,
                        m,
                        BookingKind.CREATED,
                        again,
                        slot + 2 * hour,
                        gate_id=gate_id,
                        booking_id=f"bk2-{m.manifest_id}",
                    )
                )
        elif draw < 0.13:
            out.append(booking(rng, m, BookingKind.NO_SHOW, slot + 2 * hour, slot, gate_id=gate_id))
        else:
            out.append(booking(rng, m, BookingKind.USED, arrival, slot, gate_id=gate_id))
    booked = sorted({c.manifest_id for c in out if c.kind is BookingKind.USED})
    by_id = {m.manifest_id: m for m in manifests}
    for mid in rng.sample(booked, min(spec.per_kind, len(booked))):
        m = by_id[mid]
        created = next(c for c in out if c.manifest_id == mid and c.kind is BookingKind.CREATED)
        at = created.at + rng.uniform(1, 60) * MIN
        earlier = created.slot_start - rng.randint(1, 3) * hour
        out.append(booking(rng, m, BookingKind.CANCELLED, at, created.slot_start, gate_id=gate_id))
        out.append(
            booking(
                rng,
                m,
                BookingKind.CREATED,
                at + rng.uniform(5, 120) * timedelta(seconds=1),
                earlier,
                gate_id=gate_id,
                booking_id=f"bkj-{mid}",
            )
        )
        injected.append(Injected("rebook_jump", f"manifest:{mid}", (f"manifest:{mid}",), "jump"))
    start = min(arrival_of.values())
    template = manifests[0]
    for n in range(spec.per_kind):
        firm = f"firm-ns-{n + 1:02d}"
        for b in range(30):
            m = replace(template, manifest_id=f"MF-{firm}-{b:02d}", firm_id=firm)
            slot = start.replace(minute=0, second=0, microsecond=0) + rng.randint(1, 20) * hour
            kind = BookingKind.NO_SHOW if b % 2 else BookingKind.USED
            made = slot - rng.uniform(2, 48) * hour
            out.append(booking(rng, m, BookingKind.CREATED, made, slot, gate_id=gate_id))
            out.append(
                booking(rng, m, kind, slot + rng.uniform(0.2, 2) * hour, slot, gate_id=gate_id)
            )
        injected.append(Injected("no_show_rate", f"firm:{firm}", (f"firm:{firm}",), "50%"))
    for n in range(spec.per_kind):
        key = f"key-bot-{n + 1:02d}"
        at = start + rng.uniform(0, 20) * hour
        span = rng.uniform(20, 50)
        count = rng.randint(25, 40)
        for b in range(count):
            m = replace(template, manifest_id=f"MF-{key}-{b:02d}", firm_id=f"firm-{n + 1:02d}")
            when = at + timedelta(seconds=span * b / count)
            slot = at.replace(minute=0, second=0, microsecond=0) + rng.randint(2, 30) * hour
            out.append(
                booking(rng, m, BookingKind.CREATED, when, slot, gate_id=gate_id, key_id=key)
            )
        injected.append(Injected("booking_burst", f"key:{key}", (f"key:{key}",), f"{count}"))
    return out


def _another_trailer(plate: str | None) -> str:
    """Another trailer plate of the same form (its last digit moved on by one), so the
    amended manifest is still a valid intake form; a truck without one gets a Vietnamese
    semi-trailer plate."""
    if not plate:
        return "29R00009"
    i = max(n for n, c in enumerate(plate) if c.isdigit())
    return plate[:i] + str((int(plate[i]) + 1) % 10) + plate[i + 1 :]
