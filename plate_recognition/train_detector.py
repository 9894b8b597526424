"""Train the plate detector (ultralytics YOLO from a yaml, no pretrained weights) on seeded
synthetic frames, export it to ONNX and write its metrics next to it. Needs the `train`
extra (torch, ultralytics); never run in CI.

    YOLO_OFFLINE=1 python -m plate_recognition.train_detector --train 400 --val 100 \
        --epochs 25 --hours 0.4 --seed 1
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path

from plate_recognition.scenes import render_scene

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs"
MODELS = HERE / "models"
TRAIN_SEED_BASE = 1_000_000  # detector frames: seeds [base, base + n); held-out sets elsewhere


def write_split(root: Path, split: str, seeds: range) -> None:
    images, labels = root / "images" / split, root / "labels" / split
    images.mkdir(parents=True, exist_ok=True)
    labels.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        scene = render_scene(seed)
        h, w = scene.image.shape[:2]
        x1, y1, x2, y2 = scene.box
        (images / f"{seed}.jpg").write_bytes(scene.jpeg)
        cx, cy, bw, bh = (x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h
        (labels / f"{seed}.txt").write_text(f"0 {cx:.6f} {cy:.6f} {bw:.6f} {bh:.6f}\n")


def write_data_yaml(data: Path) -> None:
    (data / "data.yaml").write_text(
        f"path: {data}\ntrain: images/train\nval: images/val\nnames:\n  0: plate\n"
    )


def train_and_export(
    args: argparse.Namespace, data: Path, name: str
) -> tuple[Path, dict[str, float]]:
    """`args.model` trained from scratch on `data` (`args.epochs`, `args.hours`,
    `args.imgsz`, `args.seed`) into `runs/<name>`, validated and exported to ONNX at
    `args.imgsz`. -> (the ONNX file, its validation figures)."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(RUNS / "yolo-config"))
    from ultralytics import YOLO  # noqa: PLC0415 (the train extra; reads YOLO_* env at import)

    model = YOLO(args.model)
    model.train(
        data=str(data / "data.yaml"),
        epochs=args.epochs,
        time=args.hours,
        imgsz=args.imgsz,
        batch=16,
        workers=0,
        device="cpu",
        seed=args.seed,
        deterministic=True,
        pretrained=False,
        amp=False,
        plots=False,
        project=str(RUNS),
        name=name,
        exist_ok=True,
        fliplr=0.0,
        mosaic=0.5,
        verbose=True,
    )
    metrics = model.val(
        data=str(data / "data.yaml"), imgsz=args.imgsz, device="cpu", plots=False, workers=0
    )
    onnx_path = Path(
        model.export(format="onnx", imgsz=args.imgsz, opset=17, simplify=False, dynamic=False)
    )
    return onnx_path, {
        "map50": float(metrics.box.map50),
        "map50_95": float(metrics.box.map),
        "precision": float(metrics.box.mp),
        "recall": float(metrics.box.mr),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", type=int, default=400)
    parser.add_argument("--val", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--hours", type=float, default=0.4, help="wall-clock budget")
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", default="yolo11n.yaml")
    parser.add_argument(
        "--out", type=Path, default=MODELS, help="where the ONNX and its metrics go (a candidate)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    started = time.time()
    data = RUNS / "detector-data"
    shutil.rmtree(data, ignore_errors=True)
    base = TRAIN_SEED_BASE + args.seed * 100_000
    write_split(data, "train", range(base, base + args.train))
    write_split(data, "val", range(base + args.train, base + args.train + args.val))
    write_data_yaml(data)
    log.info("data written in %.0f s", time.time() - started)
    onnx_path, metrics = train_and_export(args, data, "detector")
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "plate_detector.onnx"
    shutil.copyfile(onnx_path, target)
    figures: dict[str, object] = {
        "model": args.model,
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
    (args.out / "plate_detector.metrics.json").write_text(json.dumps(figures, indent=2) + "\n")
    log.info("%s", json.dumps(figures))


if __name__ == "__main__":
    main()
