"""Plates in full camera frames (issue 25). Frames larger than `small_limit` go to the frame
detector (`plate_frame_detector.onnx`: the same small YOLO11, trained on lane-camera frames
at the scale of this pass, made size-free by `heads_export`), which looks at the whole
frame scaled so that its longer side is about `longest` px (1080p: 512 x 288; a 90-250 px
plate is 24-67 px there). Smaller frames go to the 256 px letterbox detector as before.

Measured and not kept (docs/recognition.md): the 256 px detector's weights on the whole
frame at 512-768 px (it finds the plates but also 4-5 boards of text per frame), and a
closer look around each candidate (no better boxes, twice the time).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from fast_alpr.base import BaseDetector  # type: ignore[import-untyped]
from open_image_models.detection.core.base import BoundingBox, DetectionResult

from plate_recognition.detector import YoloOnnxDetector, cpu_session
from plate_recognition.heads import decode
from plate_recognition.tiling import nms, pass_shape, scaled_side


def shrink(image: np.ndarray, w: int, h: int) -> np.ndarray:
    """`image` resized to w x h as INTER_AREA would (what the frame detector was trained
    on), at a quarter of the cost for large factors: bilinear to twice the size, then an
    exact halving by area (OpenCV's fast path); 1080p -> 512 px: ~2.7 ms instead of ~9.6."""
    ih, iw = image.shape[:2]
    if iw > 2 * w and ih > 2 * h:
        image = cv2.resize(image, (2 * w, 2 * h), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


class FrameDetector(BaseDetector):  # type: ignore[misc]
    """`BaseDetector` for frames of any size: one whole-frame pass of a size-free model."""

    def __init__(
        self,
        model_path: str | Path,
        small: YoloOnnxDetector,
        *,
        longest: int = 512,
        small_limit: int = 640,
        threads: int = 1,
    ) -> None:
        self._session = cpu_session(model_path, threads)
        self.small = small
        self.longest = longest
        self.small_limit = small_limit

    def predict(self, frame: np.ndarray) -> list[DetectionResult]:
        h, w = frame.shape[:2]
        if max(h, w) <= self.small_limit:
            return list(self.small.predict(frame))
        scale, ih, iw = pass_shape(h, w, self.longest)
        sh, sw = scaled_side(h, scale), scaled_side(w, scale)
        canvas = np.full((ih, iw, 3), 114, np.uint8)
        canvas[:sh, :sw] = shrink(frame, sw, sh)
        blob = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)[None]
        outputs = self._session.run(None, {"images": blob.astype(np.float32) / 255.0})
        boxes, scores = decode(outputs, self.small.conf_threshold)
        keep = nms(boxes, scores, self.small.iou_threshold)
        return _results(boxes[keep] / scale, scores[keep], h, w)


def _results(boxes: np.ndarray, scores: np.ndarray, h: int, w: int) -> list[DetectionResult]:
    """Boxes (frame pixels, best first) -> fast-alpr's detections, clipped to the frame."""
    results = []
    for (x1, y1, x2, y2), score in zip(boxes, scores, strict=True):
        box = BoundingBox(
            x1=int(max(0, np.floor(x1))),
            y1=int(max(0, np.floor(y1))),
            x2=int(min(w, np.ceil(x2))),
            y2=int(min(h, np.ceil(y2))),
        )
        results.append(DetectionResult(label="plate", confidence=float(score), bounding_box=box))
    return results
