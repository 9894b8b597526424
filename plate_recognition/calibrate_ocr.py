"""Calibrate an exported OCR on real photographs (issue 25, item 4): the temperature of its
softmax (the `temperature` constant the export keeps in the graph) is fitted on the
even-numbered real crops, the half that chooses the state kept; the odd-numbered half only
reports. The plate confidence that matching trusts (the product of the slots' top
probabilities) then means on real photographs what it says. One scalar, fitted by
log-loss on whether the read is exact; no weight changes, so the reads are the same.
Writes the ONNX in place and, with `--metrics`, the temperature and the expected
calibration error of both halves before and after into that metrics file. Needs `onnx`
(the `train` extra).

    .venv-train/bin/python -m plate_recognition.calibrate_ocr \
        --onnx plate_recognition/models/plate_ocr.onnx \
        --metrics plate_recognition/models/plate_ocr.metrics.json \
        --real-plates ../shared/real_plates
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from plate_recognition.ocr_eval import OnnxOcr, decode, real_crops, real_plates_dir, score
from plate_recognition.views import ONE_VIEW, tempered

log = logging.getLogger(__name__)

GRID = np.exp(np.linspace(np.log(0.3), np.log(3.0), 121))  # temperatures tried


def fit(probs: np.ndarray, texts: list[str], grid: np.ndarray = GRID) -> float:
    """The temperature (on top of the model's) whose plate confidence best predicts an
    exact read: binary log-loss over `grid`."""
    reads, _ = decode(probs)
    exact = np.array([r == t for r, t in zip(reads, texts, strict=True)], np.float64)
    best, best_loss = 1.0, float("inf")
    for t in grid:
        p = np.clip(decode(tempered(probs, float(t)))[1], 1e-6, 1 - 1e-6)
        loss = float(-(exact * np.log(p) + (1 - exact) * np.log(1 - p)).mean())
        if loss < best_loss:
            best, best_loss = float(t), loss
    return best


def calibrate_onnx(path: Path, images: np.ndarray, texts: list[str]) -> dict[str, Any]:
    """Fit on the even-numbered crops, set the graph's temperature, write the model back;
    returns the temperature and `score` of both halves before and after (read back from
    the written model)."""
    import onnx  # noqa: PLC0415 (the train extra)
    from onnx import numpy_helper  # noqa: PLC0415

    def halves(ocr: OnnxOcr) -> dict[str, Any]:
        return {
            half: score(ocr.probs(images[start::2]), texts[start::2])
            for half, start in (("even", 0), ("odd", 1))
        }

    before_ocr = OnnxOcr(path, views=ONE_VIEW)  # the graph's own temperature, one view
    before = halves(before_ocr)
    factor = fit(before_ocr.probs(images[0::2]), texts[0::2])
    model = onnx.load(str(path))
    (constant,) = [t for t in model.graph.initializer if t.name == "temperature"]
    temperature = float(numpy_helper.to_array(constant)) * factor
    constant.CopyFrom(numpy_helper.from_array(np.array(temperature, np.float32), "temperature"))
    onnx.save(model, str(path))
    return {
        "temperature": round(temperature, 4),
        "before": before,
        "after": halves(OnnxOcr(path, views=ONE_VIEW)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--onnx", type=Path, required=True, help="an exported OCR, rewritten")
    parser.add_argument("--metrics", type=Path, default=None, help="its metrics file, updated")
    parser.add_argument("--real-plates", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    root = args.real_plates or real_plates_dir()
    if root is None:
        raise SystemExit("no real crops: --real-plates or BORDERFLOW_REAL_PLATES")
    images, texts = real_crops(root)
    found = calibrate_onnx(args.onnx, images, texts)
    log.info("calibrated: %s", json.dumps(found))
    if args.metrics is not None:
        metrics = json.loads(args.metrics.read_text())
        metrics.update(
            {
                "sha256": hashlib.sha256(args.onnx.read_bytes()).hexdigest(),
                "bytes": args.onnx.stat().st_size,
                "temperature": found["temperature"],
                "temperature_fitted_on": "real crops, even-numbered half (150)",
                "real_halves_before_calibration": found["before"],
                "real_halves_calibrated": found["after"],
            }
        )
        args.metrics.write_text(json.dumps(metrics, indent=1) + "\n")


if __name__ == "__main__":
    main()
