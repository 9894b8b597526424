"""The risk alerts under OCR noise we did not make: false alarms on an ordinary day, and
recall on the injected anomalies, with every plate read re-read under each of the
independent error models of `bench/holdout.py` (written without the matcher's tables).

The day is the simulator's (`plan_traffic`, with its exits, portal containers, weighings
and manifest versions: `AnomalySpec(per_kind=0)` for the ordinary day, nothing injected);
each plate read (approach, gate-in, exit) is replaced by a holdout read of its true plate
with 0, 1 or 2 errors (`--errors`, shares), keeping its camera, time and containers. Each
read is then resolved as the live decider resolves it (`lanes.resolve.resolve_reads` with
the day's manifests, `OcrMatcher`, the visits open at the read's time: an unattributed read
joins the one it is a close look-alike of, else keeps its own text) and made a sighting as
`services.alerts.observations.sighting` makes one (its plate, its text and candidates as
alternatives), and the rules (`lanes.alerts.evaluate`,
the gate file's parameters) judge the day. `sim` is the simulator's own reads, resolved
the same way. Weighings keep the simulator's reads.

Every alert on the ordinary day is a false alarm. On the anomalous day: recall per rule,
and alerts whose subject no anomaly touches. Ends with one JSON line.

    python bench/alerts_noise.py [--trucks N] [--seed N] [--per-kind N] [--errors 0.6,0.3,0.1]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from holdout import ERROR_MODELS, Plate, plate_read

from lanes.alerts import Observations, Sighting, evaluate
from lanes.matching import OcrMatcher, PlateIndex
from lanes.model import Candidate, Gate, Manifest, PlateRead
from lanes.plates import normalise_plate
from lanes.resolve import resolve_reads
from lanes.visits import VisitTrack
from services.gates.loader import get_gate
from services.simulation.anomalies import KINDS, AnomalySpec, AnomalyWorld
from services.simulation.plan import TrafficPlan, plan_traffic
from streams.events import PlateReadV1

START = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 00:00 local at Huu Nghi
_VN = re.compile(r"^(\d\d[A-Z]+)(\d+)$")


def holdout_plate(text: str) -> Plate:
    """A simulated plate's text as the holdout generator's two printed rows."""
    if found := _VN.match(text):
        return Plate(found[1], found[2], "VN")
    mark = "挂" if text.endswith("挂") else ""
    body = text.removesuffix("挂")
    return Plate(body[:2], body[2:], "CN", mark)


def true_plate(r: PlateReadV1, plates: set[str]) -> str:
    """The simulator's reads keep the true plate among their texts."""
    texts = [normalise_plate(t) for t in (r.plate_text, *(c.text for c in r.candidates))]
    return next((t for t in texts if t in plates), normalise_plate(r.plate_text))


def as_read(r: PlateReadV1) -> PlateRead:
    return PlateRead(
        event_id=r.event_id,
        camera_id=r.camera_id,
        captured_at=r.captured_at,
        plate_text=r.plate_text,
        confidence=r.confidence,
        candidates=tuple(Candidate(c.text, c.confidence) for c in r.candidates),
        char_confidences=tuple(r.char_confidences) if r.char_confidences else None,
    )


def reread(
    plan: TrafficPlan, model: str | None, errors: Sequence[float], seed: int
) -> list[tuple[PlateReadV1, PlateRead]]:
    """Each read of the day with its new read under `model` (None: as simulated)."""
    rng = random.Random(f"alerts-noise:{model}:{seed}")
    plates = {t.plate for t in plan.trucks}
    out = []
    for r in plan.reads:
        if model is None:
            out.append((r, as_read(r)))
            continue
        n = rng.choices(range(len(errors)), weights=errors)[0]
        out.append(
            (
                r,
                plate_read(
                    rng,
                    holdout_plate(true_plate(r, plates)),
                    model,
                    n,
                    event_id=r.event_id,
                    camera_id=r.camera_id,
                    captured_at=r.captured_at,
                ),
            )
        )
    return out


def observations(
    reads: Sequence[tuple[PlateReadV1, PlateRead]], gate: Gate, world: AnomalyWorld
) -> Observations:
    """The reads resolved as the decider resolves them, as the live rules see them."""
    latest: dict[str, Manifest] = {}
    for v in sorted(world.manifest_versions, key=lambda v: v.version):
        latest[v.manifest.manifest_id] = v.manifest
    index, matcher = PlateIndex(latest.values()), OcrMatcher()
    window = gate.visit_window
    sightings = []
    tracks: dict[tuple[str, str], VisitTrack] = {}  # the visits open around the read
    for wire, read in sorted(reads, key=lambda w: (w[1].captured_at, w[1].event_id)):
        camera = gate.camera(read.camera_id)
        if camera is None:
            continue
        for key in [k for k, t in tracks.items() if not t.covers(read.captured_at, window)]:
            del tracks[key]
        (found,) = resolve_reads(
            [(read, camera)], matcher=matcher, index=index, recent=[*tracks.values()], window=window
        )
        plate = found.at_gate.plate
        track = tracks.get((camera.gate_id, plate))
        tracks[camera.gate_id, plate] = (
            track.with_read(read.captured_at)
            if track is not None and track.direction is camera.direction
            else VisitTrack(
                camera.gate_id,
                plate,
                read.event_id,
                camera.direction,
                read.captured_at,
                read.captured_at,
                1,
            )
        )
        texts = [plate, normalise_plate(read.plate_text)]
        texts += [normalise_plate(c.text) for c in read.candidates]
        sightings.append(
            Sighting(
                event_id=read.event_id,
                gate_id=camera.gate_id,
                camera_id=camera.camera_id,
                role=camera.role,
                direction=camera.direction,
                at=read.captured_at,
                plate=plate,
                alternatives=tuple(t for t in dict.fromkeys(texts) if t and t != plate),
                containers=tuple(wire.container_numbers),
            )
        )
    return Observations(
        sightings=tuple(sightings),
        manifests=world.manifest_versions,
        weighings=tuple(w.to_domain() for w in world.weighings),
        bookings=world.bookings,
    )


def judge(
    gate: Gate, plan: TrafficPlan, model: str | None, errors: Sequence[float], seed: int
) -> dict[str, Any]:
    world = plan.anomalies
    assert world is not None
    obs = observations(reread(plan, model, errors, seed), gate, world)
    now = max(s.at for s in obs.sightings) + timedelta(hours=2)
    alerts = evaluate(obs, gate.alert_rules, now=now)
    touched = {s for i in world.injected for s in i.touches} | {i.subject for i in world.injected}
    raised = {(a.rule, a.subject) for a in alerts}
    false = [a for a in alerts if a.subject not in touched]
    recall = {}
    for rule in KINDS:
        wanted = {i.subject for i in world.injected if i.rule == rule}
        if wanted:
            recall[rule] = sum((rule, s) in raised for s in wanted) / len(wanted)
    return {
        "false": dict(sorted(Counter(a.rule for a in false).items())),
        "false_total": len(false),
        "recall": recall,
        "examples": [f"{a.rule} {a.subject}: {a.explanation}" for a in false[:3]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trucks", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-kind", type=int, default=20)
    parser.add_argument("--errors", default="0.6,0.3,0.1", help="shares of 0, 1, 2 errors")
    parser.add_argument("--models", default="", help="comma-separated (default: all)")
    args = parser.parse_args()
    errors = [float(x) for x in args.errors.split(",")]
    gate = get_gate("huu-nghi")
    models: list[str | None] = [None, *(args.models.split(",") if args.models else ERROR_MODELS)]
    days = {
        "ordinary": plan_traffic(
            gate=gate, trucks=args.trucks, start=START, seed=args.seed, anomalies=AnomalySpec(0)
        ),
        "anomalous": plan_traffic(
            gate=gate,
            trucks=args.trucks,
            start=START,
            seed=args.seed,
            anomalies=AnomalySpec(per_kind=args.per_kind),
        ),
    }
    started = time.perf_counter()
    rows: dict[str, Any] = {}
    print(f"{args.trucks} trucks a day, errors per read {errors}, seed {args.seed}")
    print(f"{'model':<16} {'ordinary day: false alarms by rule':<44} {'anomalous: min recall'}")
    for model in models:
        name = model or "sim"
        ordinary = judge(gate, days["ordinary"], model, errors, args.seed)
        anomalous = judge(gate, days["anomalous"], model, errors, args.seed)
        rows[name] = {"ordinary": ordinary, "anomalous": anomalous}
        worst = min(anomalous["recall"].items(), key=lambda kv: kv[1])
        by_rule = ", ".join(f"{k} {v}" for k, v in ordinary["false"].items()) or "none"
        print(
            f"{name:<16} {ordinary['false_total']:>3} ({by_rule})"[:60].ljust(61)
            + f"{worst[1]:.0%} ({worst[0]}), false {anomalous['false_total']}"
        )
        for line in ordinary["examples"][:1]:
            print(f"    e.g. {line}")
    worst_false = max(r["ordinary"]["false_total"] for r in rows.values())
    min_recall = min(v for r in rows.values() for v in r["anomalous"]["recall"].values())
    print(
        json.dumps(
            {
                "bench": "alerts_noise",
                "trucks": args.trucks,
                "seed": args.seed,
                "per_kind": args.per_kind,
                "errors": errors,
                "models": {
                    k: {
                        "ordinary_false": v["ordinary"]["false"],
                        "ordinary_false_total": v["ordinary"]["false_total"],
                        "anomalous_recall": v["anomalous"]["recall"],
                        "anomalous_false_total": v["anomalous"]["false_total"],
                    }
                    for k, v in rows.items()
                },
                "worst_ordinary_false": worst_false,
                "min_recall": min_recall,
                "wall_s": round(time.perf_counter() - started, 1),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
