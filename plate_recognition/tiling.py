"""Pure geometry of the full-frame detector (issue 25), no model: how large the frame goes
into the network, which windows of the frame a second look covers, and how the boxes of
several passes merge (non-maximum suppression). Boxes are x1, y1, x2, y2 float arrays.
"""

from __future__ import annotations

import numpy as np

Window = tuple[int, int, int, int]  # x1, y1, x2, y2 in frame pixels


def pass_shape(h: int, w: int, longest: int, multiple: int = 32) -> tuple[float, int, int]:
    """The frame scaled so that its longer side is about `longest` (never enlarged), each
    side rounded up to `multiple` for the network's strides. -> (scale, height, width) of
    the network's input; the scaled frame sits at its top-left, the rest padded."""
    scale = min(1.0, longest / max(h, w))
    ih = -(-round(h * scale) // multiple) * multiple
    iw = -(-round(w * scale) // multiple) * multiple
    return scale, ih, iw


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[int]:
    """Indices of the boxes kept, best score first: each box suppresses the lower-scored
    boxes that overlap it by more than `iou_threshold` (equal scores: the lower index
    first)."""
    order = np.lexsort((np.arange(len(scores)), -np.asarray(scores, np.float64)))
    boxes = np.asarray(boxes, np.float64)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept: list[int] = []
    while order.size:
        i, rest = int(order[0]), order[1:]
        kept.append(i)
        ix = np.clip(
            np.minimum(boxes[i, 2], boxes[rest, 2]) - np.maximum(boxes[i, 0], boxes[rest, 0]),
            0,
            None,
        )
        iy = np.clip(
            np.minimum(boxes[i, 3], boxes[rest, 3]) - np.maximum(boxes[i, 1], boxes[rest, 1]),
            0,
            None,
        )
        inter = ix * iy
        union = areas[i] + areas[rest] - inter
        overlap = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        order = rest[overlap <= iou_threshold]
    return kept


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, float(min(a[2], b[2]) - max(a[0], b[0])))
    iy = max(0.0, float(min(a[3], b[3]) - max(a[1], b[1])))
    inter = ix * iy
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / union if union > 0 else 0.0


def window_around(box: np.ndarray, h: int, w: int, context: float, side: int) -> Window:
    """A square window of the frame centred on `box`, `context` times the box's width (at
    least `side` / 2 px, at most the frame), moved inside the frame rather than cut."""
    size = int(min(max(context * float(box[2] - box[0]), side / 2), h, w))
    cx, cy = float(box[0] + box[2]) / 2, float(box[1] + box[3]) / 2
    x1 = int(min(max(0.0, cx - size / 2), w - size))
    y1 = int(min(max(0.0, cy - size / 2), h - size))
    return x1, y1, x1 + size, y1 + size
