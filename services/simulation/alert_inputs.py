"""Plate reads and the simulated day's extras -> the alert rules' observations (issue 22).

A read's plate is its text, or the first of its candidates that a manifest declares as a
tractor plate (the true plate is often second in a misread); its other candidates are kept
as alternatives, so an exit read under another candidate still shows the truck."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from lanes.alerts import Observations, Sighting
from lanes.model import Gate
from lanes.plates import normalise_plate
from services.simulation.anomalies import AnomalySpec, AnomalyWorld
from services.simulation.plan import TrafficPlan, plan_traffic
from streams.events import PlateReadV1


def sightings(
    reads: Sequence[PlateReadV1], gate: Gate, *, declared: Collection[str]
) -> tuple[Sighting, ...]:
    """The reads of `gate`'s cameras as sightings (others are skipped)."""
    out = []
    for r in reads:
        camera = gate.camera(r.camera_id)
        if camera is None:
            continue
        texts = list(
            dict.fromkeys(
                normalise_plate(t) for t in (r.plate_text, *(c.text for c in r.candidates))
            )
        )
        texts = [t for t in texts if t]
        plate = next((t for t in texts if t in declared), texts[0] if texts else "")
        out.append(
            Sighting(
                event_id=r.event_id,
                gate_id=camera.gate_id,
                camera_id=camera.camera_id,
                role=camera.role,
                direction=camera.direction,
                at=r.captured_at,
                plate=plate,
                alternatives=tuple(t for t in texts if t != plate),
                containers=tuple(r.container_numbers),
            )
        )
    return tuple(out)


def observations(reads: Sequence[PlateReadV1], gate: Gate, world: AnomalyWorld) -> Observations:
    """Everything a simulated anomalous day gives the rules."""
    declared = {v.manifest.tractor_plate for v in world.manifest_versions}
    return Observations(
        sightings=sightings(reads, gate, declared=declared),
        manifests=world.manifest_versions,
        weighings=tuple(w.to_domain() for w in world.weighings),
        bookings=world.bookings,
    )


@dataclass(frozen=True, slots=True)
class AnomalousDay:
    """A simulated day with anomalies injected, as the alert rules see it (the benches')."""

    plan: TrafficPlan
    world: AnomalyWorld
    observations: Observations
    now: datetime  # two hours after the last read: every rule has had its time


def anomalous_day(
    gate: Gate, *, trucks: int, seed: int, per_kind: int, start: datetime
) -> AnomalousDay:
    plan = plan_traffic(
        gate=gate, trucks=trucks, start=start, seed=seed, anomalies=AnomalySpec(per_kind=per_kind)
    )
    world = plan.anomalies
    assert world is not None
    obs = observations(plan.reads, gate, world)
    return AnomalousDay(plan, world, obs, max(s.at for s in obs.sightings) + timedelta(hours=2))
