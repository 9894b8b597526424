"""OCR training and evaluation crops, cut from seeded synthetic frames the way the detector cuts
them: the plate's box with jitter (a detector's box is a few pixels off, a little loose or a
little tight), or the box a detector model actually finds, to grayscale, resized with the
model's interpolation. Needs only numpy/OpenCV (and onnxruntime for a detector's boxes).
"""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path

import cv2
import numpy as np

from plate_recognition.alphabet import IMG_HEIGHT, IMG_WIDTH, encode
from plate_recognition.scenes import iou, render_scene

OCR_SEED_BASE = 2_000_000  # OCR training frames; the detector's and the bench's are elsewhere


def jittered_box(
    rng: random.Random, box: tuple[float, float, float, float], shape: tuple[int, ...]
) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    grow_x, grow_y = rng.uniform(-0.05, 0.10) * w, rng.uniform(-0.08, 0.18) * h
    shift_x, shift_y = rng.uniform(-0.05, 0.05) * w, rng.uniform(-0.08, 0.08) * h
    nx1 = int(max(0, x1 - grow_x / 2 + shift_x))
    ny1 = int(max(0, y1 - grow_y / 2 + shift_y))
    nx2 = int(min(shape[1], x2 + grow_x / 2 + shift_x))
    ny2 = int(min(shape[0], y2 + grow_y / 2 + shift_y))
    return nx1, ny1, max(nx1 + 2, nx2), max(ny1 + 2, ny2)


def crop_for_ocr(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """BGR frame + box -> the OCR's input (H, W) uint8, as fast-plate-ocr prepares it."""
    x1, y1, x2, y2 = box
    gray = cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY)
    return cv2.resize(gray, (IMG_WIDTH, IMG_HEIGHT), interpolation=cv2.INTER_LINEAR)


def make_crops(
    seeds: range,
    crops_per_frame: int = 2,
    jitter_seed: int = 0,
    *,
    workers: int = 1,
    detector: Path | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(images N x H x W uint8, labels N x slots int64, texts) for the frames of `seeds`;
    `workers` processes render parts of the range (the result does not depend on it).
    With a `detector` (an ONNX file), each frame's first crop is the box that detector finds
    for the plate (IoU >= 0.5; a jittered box where it finds none), so the OCR learns the
    detector's real errors: its boxes are off by more, and differently, than the jitter."""
    if workers > 1 and len(seeds) >= 2 * workers:
        step = -(-len(seeds) // workers)
        parts = [seeds[i : i + step] for i in range(0, len(seeds), step)]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            done = pool.starmap(
                _make_crops_part, [(p, crops_per_frame, jitter_seed, detector) for p in parts]
            )
        return (
            np.concatenate([d[0] for d in done]),
            np.concatenate([d[1] for d in done]),
            [t for d in done for t in d[2]],
        )
    return _make_crops_part(seeds, crops_per_frame, jitter_seed, detector)


def _make_crops_part(
    seeds: range, crops_per_frame: int, jitter_seed: int, detector: Path | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    find = None
    if detector is not None:
        from plate_recognition.detector import YoloOnnxDetector  # noqa: PLC0415 (onnxruntime)

        find = YoloOnnxDetector(detector, threads=1).predict
    images: list[np.ndarray] = []
    labels: list[list[int]] = []
    texts: list[str] = []
    for seed in seeds:
        scene = render_scene(seed)
        rng = random.Random(seed * 7 + jitter_seed)
        found: tuple[int, int, int, int] | None = None
        if find is not None:
            for hit in find(scene.image):  # the JPEG decoded, as a camera's frame is
                b = hit.bounding_box
                if iou((b.x1, b.y1, b.x2, b.y2), scene.box) >= 0.5:
                    found = (b.x1, b.y1, b.x2, b.y2)
                    break
        for n in range(crops_per_frame):
            box = jittered_box(rng, scene.box, scene.image.shape)
            if n == 0 and found is not None:
                box = found
            images.append(crop_for_ocr(scene.image, box))
            labels.append(encode(scene.plate.text))
            texts.append(scene.plate.text)
    return np.stack(images), np.asarray(labels, dtype=np.int64), texts
