"""The OCR's evaluation splits (issue 25), side by side: crops of our own renderer's frames,
a renderer-shift split (the second renderer with fonts and seeds never trained on), and
real photographs (`../shared/real_plates/`, validation only, never trained on). Figures:
exact plate reads, character accuracy (1 - edit distance / length), mean confidence and
expected calibration error of the plate confidence (the product of the slots' top
probabilities, as `reading.reading_from_probs` gives it) against exact reads.
Numpy and OpenCV only; `OnnxOcr` runs an exported model on onnxruntime.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from plate_recognition.alphabet import ALPHABET, IMG_HEIGHT, IMG_WIDTH, PAD
from plate_recognition.ocr_data import crop_for_ocr, jittered_box
from plate_recognition.photo_crops import GREEN, SHIFT_FONTS, render_crop
from plate_recognition.plates import BLUE, WHITE, YELLOW, PlateSpec
from plate_recognition.reading import edits
from plate_recognition.scenes import render_scene
from plate_recognition.views import Views, load_views

SPLIT_SEED_BASE = 5_000_000  # the bench's seeds: never trained on
SHIFT_SEED_BASE = 6_000_000
_PAD_INDEX = ALPHABET.index(PAD)
_COLOURS = {BLUE: "blue", YELLOW: "yellow", WHITE: "white", GREEN: "green"}


def real_plates_dir() -> Path | None:
    """`BORDERFLOW_REAL_PLATES`, else `shared/real_plates` beside the checkout (or beside
    its parent, for a worktree); None when there is none."""
    env = os.environ.get("BORDERFLOW_REAL_PLATES")
    if env:
        return Path(env)
    root = Path(__file__).resolve().parents[1]
    for base in (root.parent, root.parent.parent):
        if (base / "shared" / "real_plates" / "labels.jsonl").is_file():
            return base / "shared" / "real_plates"
    return None


def real_crops(root: Path) -> tuple[np.ndarray, list[str]]:
    """The real crops of `root/labels.jsonl` as the OCR's input (N x 48 x 128 uint8, the whole
    image taken as the detector's box) and their texts."""
    images, texts = [], []
    for line in (root / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        image = cv2.imread(str(root / row["file"]), cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(root / row["file"])
        images.append(crop_for_ocr(image, (0, 0, image.shape[1], image.shape[0])))
        texts.append(row["text"])
    return np.stack(images), texts


def own_renderer_crops(n: int, seed: int = 1) -> tuple[np.ndarray, list[str]]:
    """Crops of the first renderer's frames (`scenes.render_scene`, bench seeds), each cut at
    a jittered box as a detector would."""
    images, texts, _ = own_renderer_split(n, seed)
    return images, texts


def own_renderer_split(n: int, seed: int = 1) -> tuple[np.ndarray, list[str], list[str]]:
    """`own_renderer_crops`, with each plate's kind (`plate_kind`)."""
    images, texts, kinds = [], [], []
    base = SPLIT_SEED_BASE + seed * 100_000
    for i in range(n):
        scene = render_scene(base + i, cn_share=0.5)
        box = jittered_box(random.Random(base + i), scene.box, scene.image.shape)
        images.append(crop_for_ocr(scene.image, box))
        texts.append(scene.plate.text)
        kinds.append(plate_kind(scene.plate))
    return np.stack(images), texts, kinds


def shift_crops(n: int, seed: int = 1) -> tuple[np.ndarray, list[str]]:
    """Crops of the second renderer drawn with the fonts training never sees."""
    images, texts, _ = shift_split(n, seed)
    return images, texts


def shift_split(n: int, seed: int = 1) -> tuple[np.ndarray, list[str], list[str]]:
    """`shift_crops`, with each plate's kind (`plate_kind`)."""
    base = SHIFT_SEED_BASE + seed * 100_000
    drawn = [render_crop(base + i, SHIFT_FONTS, cn_share=0.5) for i in range(n)]
    return (
        np.stack([d[0] for d in drawn]),
        [d[1].text for d in drawn],
        [plate_kind(d[1]) for d in drawn],
    )


def plate_kind(spec: PlateSpec) -> str:
    """Country, number of lines and colour: "CN 2-line yellow"."""
    return f"{spec.country} {len(spec.lines)}-line {_COLOURS.get(spec.background, 'other')}"


def by_kind(probs: np.ndarray, texts: list[str], kinds: list[str]) -> dict[str, dict[str, Any]]:
    """Exact reads per plate kind, and over all two-line plates ("2-line")."""
    reads, _ = decode(probs)
    groups: dict[str, list[bool]] = {}
    for read, text, kind in zip(reads, texts, kinds, strict=True):
        for group in (kind, "2-line") if " 2-line " in kind else (kind,):
            groups.setdefault(group, []).append(read == text)
    return {k: {"n": len(v), "exact": round(sum(v) / len(v), 4)} for k, v in sorted(groups.items())}


def read_score(read: str, truth: str) -> tuple[bool, float]:
    """(exact, character score: 1 - edits / length, at least 0) of one read of `truth`."""
    return read == truth, max(0.0, 1 - edits(read, truth) / len(truth))


def misread_kind(country: str, lines: int) -> str:
    """The benches' name for a misread plate: by country and number of lines."""
    return f"misread {country} {lines}-line"


def decode(probs: np.ndarray) -> tuple[list[str], np.ndarray]:
    """N x slots x vocab probabilities -> texts and plate confidences."""
    best = probs.argmax(axis=2)
    top = np.take_along_axis(probs, best[..., None], axis=2)[..., 0]
    texts = ["".join(ALPHABET[i] for i in row if i != _PAD_INDEX) for row in best]
    return texts, top.prod(axis=1)


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10
) -> float:
    """Equal-width bins over [0, 1]: the mean |accuracy - confidence| weighted by bin size."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.sum() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(total / max(1, len(confidence)))


def score(probs: np.ndarray, texts: list[str]) -> dict[str, Any]:
    """Exact, character accuracy, mean confidence and ECE of N reads against their texts."""
    reads, confidence = decode(probs)
    correct = np.array([r == t for r, t in zip(reads, texts, strict=True)], dtype=np.float64)
    chars = [read_score(r, t)[1] for r, t in zip(reads, texts, strict=True)]
    return {
        "n": len(texts),
        "exact": round(float(correct.mean()), 4),
        "char_accuracy": round(float(np.mean(chars)), 4),
        "mean_confidence": round(float(confidence.mean()), 4),
        "ece": round(expected_calibration_error(confidence, correct), 4),
    }


class OnnxOcr:
    """An exported OCR (fast-plate-ocr format) on one onnxruntime thread, reading each crop
    in `views` (default: those fitted beside the model, as the run-time pipeline reads)."""

    def __init__(self, path: Path, threads: int = 1, *, views: Views | None = None) -> None:
        import onnxruntime as ort  # type: ignore[import-untyped]  # noqa: PLC0415

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.views = load_views(path.parent) if views is None else views

    def probs(self, images: np.ndarray) -> np.ndarray:
        """N x 48 x 128 uint8 -> N x slots x vocab, from every view of each crop."""
        return self.views.read(self.raw_probs, images)

    def raw_probs(self, images: np.ndarray) -> np.ndarray:
        """N x 48 x 128 uint8 -> N x slots x vocab: the model on the images as given."""
        if images.shape[1:] != (IMG_HEIGHT, IMG_WIDTH):
            raise ValueError(f"crops must be {IMG_HEIGHT} x {IMG_WIDTH}, not {images.shape[1:]}")
        out = [
            self.session.run(["plate"], {"input": images[i : i + 256, :, :, None]})[0]
            for i in range(0, len(images), 256)
        ]
        return np.concatenate(out)
