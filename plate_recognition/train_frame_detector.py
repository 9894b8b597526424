"""Train the full-frame plate detector (issue 25): the same small YOLO11 from its yaml, no
pretrained weights, on seeded lane-camera frames (`camera_frames`: 1080p, 720p and portrait,
with clutter and boards of text that are not plates) scaled as `FrameDetector`'s whole-frame
pass scales them (longer side `--longest`), cut into `--imgsz` windows (one around the
plate, one anywhere: the network is fully convolutional, so it learns the pass's scale at a
quarter of the cost). Exports ONNX, makes it size-free (`heads_export`) and writes its
metrics. Needs the `train` extra; never run in CI.

    YOLO_OFFLINE=1 python -m plate_recognition.train_frame_detector --train 1200 --val 100 \
        --epochs 30 --hours 0.6 --seed 1
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import shutil
import time
from pathlib import Path

import cv2
import numpy as np

from plate_recognition.camera_frames import render_frame
from plate_recognition.heads_export import convert
from plate_recognition.tiling import pass_shape
from plate_recognition.train_detector import train_and_export, write_data_yaml

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs"
MODELS = HERE / "models"
TRAIN_SEED_BASE = 3_000_000  # frame seeds for training; the bench's start at 5,000,000
MIX = ("1080p", "1080p", "720p", "720p", "portrait")


def crops(
    rng: random.Random, image: np.ndarray, box: tuple[float, ...], side: int
) -> list[tuple[np.ndarray, tuple[float, ...] | None]]:
    """Two `side`-px windows of a scaled frame: one around the plate, one anywhere (the
    plate's box clipped to it when at least half of it shows; a window showing less of it
    is drawn again). -> [(crop, the plate's box in the crop or None)]."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = box
    hi_x, hi_y = max(0, w - side), max(0, h - side)
    starts = [
        (
            rng.randint(int(min(max(0, x2 - side), hi_x)), int(max(0, min(x1, hi_x)))),
            rng.randint(int(min(max(0, y2 - side), hi_y)), int(max(0, min(y1, hi_y)))),
        )
    ]
    for _ in range(5):
        x0, y0 = rng.randint(0, hi_x), rng.randint(0, hi_y)
        cx1, cy1 = max(x1, x0), max(y1, y0)
        cx2, cy2 = min(x2, x0 + side), min(y2, y0 + side)
        shown = max(0.0, cx2 - cx1) * max(0.0, cy2 - cy1) / ((x2 - x1) * (y2 - y1))
        if shown == 0 or shown >= 0.5:
            starts.append((x0, y0))
            break
    out: list[tuple[np.ndarray, tuple[float, ...] | None]] = []
    for x0, y0 in starts:
        crop = np.full((side, side, 3), 114, np.uint8)
        part = image[y0 : y0 + side, x0 : x0 + side]
        crop[: part.shape[0], : part.shape[1]] = part
        cx1, cy1 = max(x1, x0) - x0, max(y1, y0) - y0
        cx2, cy2 = min(x2, x0 + side) - x0, min(y2, y0 + side) - y0
        out.append((crop, (cx1, cy1, cx2, cy2) if cx2 > cx1 and cy2 > cy1 else None))
    return out


def write_split(root: Path, split: str, seeds: range, longest: int, side: int) -> None:
    """Each seed's frame scaled as the whole-frame pass scales it, cut into `crops`."""
    images, labels = root / "images" / split, root / "labels" / split
    images.mkdir(parents=True, exist_ok=True)
    labels.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        rng = random.Random(seed)
        frame = render_frame(seed, rng.choice(MIX))
        h, w = frame.image.shape[:2]
        scale, _, _ = pass_shape(h, w, longest)
        small = cv2.resize(
            frame.image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA
        )
        box = tuple(v * scale for v in frame.box)
        for k, (crop, inside) in enumerate(crops(rng, small, box, side)):
            cv2.imwrite(str(images / f"{seed}-{k}.jpg"), crop, [cv2.IMWRITE_JPEG_QUALITY, 92])
            label = ""
            if inside is not None:
                bx1, by1, bx2, by2 = inside
                cx, cy = (bx1 + bx2) / 2 / side, (by1 + by2) / 2 / side
                label = f"0 {cx:.6f} {cy:.6f} {(bx2 - bx1) / side:.6f} {(by2 - by1) / side:.6f}\n"
            (labels / f"{seed}-{k}.txt").write_text(label)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", type=int, default=1200)
    parser.add_argument("--val", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hours", type=float, default=0.6, help="wall-clock budget")
    parser.add_argument("--longest", type=int, default=512, help="the whole-frame pass's size")
    parser.add_argument("--imgsz", type=int, default=256, help="the training crops' side")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", default=str(HERE / "plate-yolo11.yaml"))
    parser.add_argument("--out", type=Path, default=MODELS, help="where the models go")
    parser.add_argument("--reuse-data", action="store_true", help="keep frames already written")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    started = time.time()
    data = RUNS / "frame-detector-data"
    base = TRAIN_SEED_BASE + args.seed * 100_000
    if not (args.reuse_data and (data / "data.yaml").is_file()):
        shutil.rmtree(data, ignore_errors=True)
        val = range(base + args.train, base + args.train + args.val)
        write_split(data, "train", range(base, base + args.train), args.longest, args.imgsz)
        write_split(data, "val", val, args.longest, args.imgsz)
        write_data_yaml(data)
    log.info("data ready in %.0f s", time.time() - started)
    onnx_path, metrics = train_and_export(args, data, "frame-detector")
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "plate_frame_detector.onnx"
    convert(onnx_path, target)
    figures: dict[str, object] = {
        "model": args.model,
        "longest": args.longest,
        "imgsz": args.imgsz,
        "train_frames": args.train,
        "val_frames": args.val,
        "epochs_budget": args.epochs,
        "hours_budget": args.hours,
        "seed": args.seed,
        **metrics,
        "train_seconds": round(time.time() - started),
        "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
        "bytes": target.stat().st_size,
    }
    (args.out / "plate_frame_detector.metrics.json").write_text(
        json.dumps(figures, indent=2) + "\n"
    )
    log.info("%s", json.dumps(figures))


if __name__ == "__main__":
    main()
