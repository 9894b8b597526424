"""The plate detector at run time: the project's ultralytics YOLO ONNX export on onnxruntime,
behind fast-alpr's `BaseDetector` port (letterbox, decode `[1, 4 + classes, anchors]`, NMS).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped]
from fast_alpr.base import BaseDetector  # type: ignore[import-untyped]
from open_image_models.detection.core.base import BoundingBox, DetectionResult


def cpu_session(model_path: str | Path, threads: int) -> ort.InferenceSession:
    """An onnxruntime session on the CPU with `threads` intra-op threads (one per core)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(
        str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
    )


class YoloOnnxDetector(BaseDetector):  # type: ignore[misc]
    """A one-class ("plate") YOLO detector exported by `plate_recognition.train_detector`."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        conf_threshold: float = 0.35,
        iou_threshold: float = 0.5,
        threads: int = 1,
    ) -> None:
        self._session = cpu_session(model_path, threads)
        shape = self._session.get_inputs()[0].shape
        self._input_name = self._session.get_inputs()[0].name
        self.size = int(shape[2])
        self.conf_threshold = conf_threshold
        self.iou_threshold = iou_threshold

    def _letterbox(self, frame: np.ndarray) -> tuple[np.ndarray, float, int, int]:
        h, w = frame.shape[:2]
        scale = min(self.size / h, self.size / w)
        nh, nw = round(h * scale), round(w * scale)
        resized = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_LINEAR)
        top, left = (self.size - nh) // 2, (self.size - nw) // 2
        canvas = np.full((self.size, self.size, 3), 114, dtype=np.uint8)
        canvas[top : top + nh, left : left + nw] = resized
        blob = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)[None]
        return blob.astype(np.float32) / 255.0, scale, left, top

    def predict(self, frame: np.ndarray) -> list[DetectionResult]:
        blob, scale, left, top = self._letterbox(frame)
        (raw,) = self._session.run(None, {self._input_name: blob})
        preds = raw[0].T  # anchors x (4 + classes)
        scores = preds[:, 4:].max(axis=1)
        keep = scores >= self.conf_threshold
        preds, scores = preds[keep], scores[keep]
        if len(preds) == 0:
            return []
        cx, cy, bw, bh = preds[:, 0], preds[:, 1], preds[:, 2], preds[:, 3]
        x1 = (cx - bw / 2 - left) / scale
        y1 = (cy - bh / 2 - top) / scale
        boxes = np.stack([x1, y1, bw / scale, bh / scale], axis=1)
        chosen = cv2.dnn.NMSBoxes(
            boxes.tolist(), scores.tolist(), self.conf_threshold, self.iou_threshold
        )
        h, w = frame.shape[:2]
        results = []
        for i in np.asarray(chosen, dtype=np.int64).reshape(-1):
            bx, by, bw_, bh_ = boxes[i]
            box = BoundingBox(
                x1=int(max(0, np.floor(bx))),
                y1=int(max(0, np.floor(by))),
                x2=int(min(w, np.ceil(bx + bw_))),
                y2=int(min(h, np.ceil(by + bh_))),
            )
            results.append(
                DetectionResult(label="plate", confidence=float(scores[i]), bounding_box=box)
            )
        return sorted(results, key=lambda r: -r.confidence)
