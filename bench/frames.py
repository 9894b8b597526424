"""Benchmark of plate recognition on full lane-camera frames (issue 25): rendered frames at
real camera resolutions (`plate_recognition.camera_frames`: 1920 x 1080, 1280 x 720 and the
portrait 720 x 1160; a truck 4-10 m away, its plate 90-250 px wide at 1080p, clutter, boards
of text that are not plates, day / night / infrared, blur, JPEG), held-out seeds from
5,000,000, through `PlateRecognizer` with the committed models (the full-frame detector for
frames larger than 640 px, then the committed OCR).

Per resolution: detection (a detection at IoU >= 0.5 with the plate), exact read and
character accuracy (of all frames, from the detection that found the plate), false
positives per frame (detections that are not the plate) and ms per frame p50/p95 on one
core (onnxruntime intra_op_num_threads=1, cv2 one thread): detection + OCR on the decoded
frame, wall clock and CPU time (the wall clock of a shared machine counts other processes'
time), and the JPEG decode apart. Ends with one JSON line of the figures and the issue's
targets.

    python bench/frames.py [--frames 150] [--seed 1] [--resolutions 1080p,720p,portrait]

`--two-plates N` adds N frames a landscape resolution holding two trucks' plates
(`plate_recognition.two_plate_frames`, seeds from 5,500,000): of their 2N plates, how many
the detector found, how many the recognizer worker publishes (`reading.frame_plates`) and
how many of those read exactly, against one read per frame (the most confident detection,
as the worker published until 2026-12-06), and the reads published that are no plate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from plate_recognition.camera_frames import RESOLUTIONS, render_frame
from plate_recognition.ocr_eval import misread_kind, read_score
from plate_recognition.pipeline import MODELS_DIR, PlateRecognizer
from plate_recognition.reading import frame_plates
from plate_recognition.scenes import iou
from plate_recognition.two_plate_frames import TWO_PLATE_RESOLUTIONS, render_two_plate_frame

BENCH_SEED_BASE = 5_000_000  # the frame detector trains on 3,100,000+
TWO_PLATE_SEED_BASE = 5_500_000
TARGETS = {
    "detection_min": 0.95,
    "exact_min": 0.85,
    "ms_per_1080p_frame_p95_max": 30.0,
}


def p95(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=20)[18], 2)


def run(recognizer: PlateRecognizer, resolution: str, frames: int, base: int) -> dict[str, Any]:
    found = exact = false_pos = 0
    chars = 0.0
    wall: list[float] = []
    cpu: list[float] = []
    decode: list[float] = []
    misses: Counter[str] = Counter()
    lights: Counter[str] = Counter()
    lights_found: Counter[str] = Counter()
    drawn: Counter[str] = Counter()
    drawn_found: Counter[str] = Counter()
    drawn_exact: Counter[str] = Counter()
    for i in range(frames):
        frame = render_frame(base + i, resolution)
        t0 = time.perf_counter()
        cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_COLOR)
        decode.append((time.perf_counter() - t0) * 1000)
        t0, c0 = time.perf_counter(), time.process_time()
        reads = recognizer.read(frame.image)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        hit = next((r for r in reads if iou(r.bbox, frame.box) >= 0.5), None)
        false_pos += sum(iou(r.bbox, frame.box) < 0.5 for r in reads)
        lights[frame.lighting] += 1
        drawn[frame.drawn_by] += 1
        if hit is None:
            misses[f"not detected ({frame.lighting})"] += 1
            continue
        lights_found[frame.lighting] += 1
        drawn_found[frame.drawn_by] += 1
        found += 1
        truth = frame.plate.text
        right, score = read_score(hit.text, truth)
        exact += right
        drawn_exact[frame.drawn_by] += right
        chars += score
        if not right:
            misses[misread_kind(frame.plate.country, len(frame.plate.lines))] += 1
    return {
        "frames": frames,
        "size": "x".join(map(str, RESOLUTIONS[resolution])),
        "seeds": f"{base}..{base + frames - 1}",
        "detection": round(found / frames, 4),
        "exact": round(exact / frames, 4),
        "char_accuracy": round(chars / frames, 4),
        "false_positives_per_frame": round(false_pos / frames, 3),
        "detection_by_lighting": {k: round(lights_found[k] / v, 3) for k, v in lights.items()},
        # the plates drawn with the fonts the OCR never trains on are the frames' renderer
        # shift (the frame detector's training frames include those fonts)
        "by_drawer": {
            k: {
                "frames": v,
                "detection": round(drawn_found[k] / v, 3),
                "exact": round(drawn_exact[k] / v, 3),
            }
            for k, v in sorted(drawn.items())
        },
        "ms_p50": round(statistics.median(wall), 2),
        "ms_p95": p95(wall),
        "cpu_ms_p50": round(statistics.median(cpu), 2),
        "cpu_ms_p95": p95(cpu),
        "decode_ms_p50": round(statistics.median(decode), 2),
        "errors": dict(misses.most_common()),
    }


def run_two_plates(
    recognizer: PlateRecognizer, resolution: str, frames: int, base: int
) -> dict[str, Any]:
    """Frames holding two plates: per plate, found (a detection at IoU >= 0.5), published
    (`frame_plates`, as the worker does) and read exactly; the same for the first read
    alone (one read per frame); published reads that are no plate; ms per frame."""
    count: Counter[str] = Counter()
    cpu: list[float] = []
    for i in range(frames):
        frame = render_two_plate_frame(base + i, resolution)
        c0 = time.process_time()
        reads = recognizer.read(frame.image)
        published = frame_plates(reads)
        cpu.append((time.process_time() - c0) * 1000)
        count["published_not_a_plate"] += sum(
            max(iou(r.bbox, box) for box in frame.boxes) < 0.5 for r in published
        )
        both = both_exact = True
        for k, (plate, box) in enumerate(zip(frame.plates, frame.boxes, strict=True)):
            which = "near" if k == 0 else "behind"
            on = [r for r in reads if iou(r.bbox, box) >= 0.5]
            out = [r for r in published if iou(r.bbox, box) >= 0.5]
            count[f"{which}_found"] += bool(on)
            count[f"{which}_published"] += bool(out)
            count[f"{which}_exact"] += any(r.text == plate.text for r in out)
            count["first_read_only_exact"] += bool(
                reads[:1] and iou(reads[0].bbox, box) >= 0.5 and reads[0].text == plate.text
            )
            both &= bool(out)
            both_exact &= any(r.text == plate.text for r in out)
        count["frames_both_published"] += both
        count["frames_both_exact"] += both_exact
    plates = 2 * frames
    return {
        "frames": frames,
        "seeds": f"{base}..{base + frames - 1}",
        "plates": plates,
        "found": count["near_found"] + count["behind_found"],
        "published": count["near_published"] + count["behind_published"],
        "exact": count["near_exact"] + count["behind_exact"],
        "exact_first_read_only": count["first_read_only_exact"],
        **{k: v for k, v in sorted(count.items()) if k.startswith(("near", "behind", "frames"))},
        "published_not_a_plate": count["published_not_a_plate"],
        "cpu_ms_p50": round(statistics.median(cpu), 2),
        "cpu_ms_p95": p95(cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150, help="frames per resolution")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--resolutions", default="1080p,720p,portrait")
    parser.add_argument("--models", type=Path, default=MODELS_DIR, help="a candidate model set")
    parser.add_argument(
        "--two-plates",
        type=int,
        default=0,
        metavar="N",
        help="also N frames holding two trucks' plates per landscape resolution",
    )
    args = parser.parse_args()
    cv2.setNumThreads(1)
    recognizer = PlateRecognizer(args.models, threads=1)
    recognizer.read(render_frame(BENCH_SEED_BASE - 1, "1080p").image)  # warm-up
    figures: dict[str, Any] = {}
    for k, resolution in enumerate(args.resolutions.split(",")):
        base = BENCH_SEED_BASE + args.seed * 100_000 + k * 10_000
        figures[resolution] = run(recognizer, resolution, args.frames, base)
        print(f"{resolution:9s} " + "  ".join(f"{k}={v}" for k, v in figures[resolution].items()))
        if args.two_plates and resolution in TWO_PLATE_RESOLUTIONS:
            base = TWO_PLATE_SEED_BASE + (args.seed - 1) * 100_000 + k * 10_000
            two = run_two_plates(recognizer, resolution, args.two_plates, base)
            figures[f"{resolution}_two_plates"] = two
            print(f"{resolution:9s} two plates: " + "  ".join(f"{k}={v}" for k, v in two.items()))
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    figures["cpu"] = platform.processor() or platform.machine()
    figures["cores_visible"] = os.cpu_count()
    print(json.dumps({"figures": figures, "targets": TARGETS}, ensure_ascii=False))


if __name__ == "__main__":
    main()
