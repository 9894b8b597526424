"""Decoding the size-free detector's raw heads (`plate_detector_heads.onnx`, written by
`plate_recognition.heads_export`): per stride, a 4 x 16 box distribution (DFL) and one class
logit per grid cell -> boxes in input pixels and their scores. The same arithmetic as
ultralytics' Detect head, done only for the cells whose score passes the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

STRIDES = (8, 16, 32)
BINS = 16


def decode(outputs: Sequence[np.ndarray], conf: float) -> tuple[np.ndarray, np.ndarray]:
    """`outputs`: (box [1, 64, h, w], class logits [1, 1, h, w]) for each stride in turn.
    -> (boxes [n, 4] as x1, y1, x2, y2 in input pixels, scores [n])."""
    logit_min = float(np.log(conf / (1 - conf)))  # sigmoid(x) >= conf
    all_boxes, all_scores = [], []
    for stride, box, cls in zip(STRIDES, outputs[0::2], outputs[1::2], strict=True):
        h, w = cls.shape[2:]
        logits = cls.reshape(-1)
        idx = np.flatnonzero(logits >= logit_min)
        if idx.size == 0:
            continue
        dist = box.reshape(4, BINS, h * w)[:, :, idx]
        dist = np.exp(dist - dist.max(axis=1, keepdims=True))
        dist /= dist.sum(axis=1, keepdims=True)
        ltrb = (dist * np.arange(BINS, dtype=np.float32)[None, :, None]).sum(axis=1)
        ax, ay = idx % w + 0.5, idx // w + 0.5
        boxes = np.stack([ax - ltrb[0], ay - ltrb[1], ax + ltrb[2], ay + ltrb[3]], axis=1)
        all_boxes.append(boxes * stride)
        all_scores.append(1 / (1 + np.exp(-logits[idx])))
    if not all_boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    return (
        np.concatenate(all_boxes).astype(np.float32),
        np.concatenate(all_scores).astype(np.float32),
    )
