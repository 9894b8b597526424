"""Pure geometry of the full-frame detector (issue 25), no model: how large the frame goes
into the network, and which of the overlapping boxes it gives are kept (non-maximum
suppression). Boxes are x1, y1, x2, y2 float arrays.
"""

from __future__ import annotations

import numpy as np


def pass_shape(h: int, w: int, longest: int, multiple: int = 32) -> tuple[float, int, int]:
    """The frame scaled so that its longer side is about `longest` (never enlarged), each
    side rounded up to `multiple` for the network's strides. -> (scale, height, width) of
    the network's input; the scaled frame sits at its top-left, the rest padded."""
    scale = min(1.0, longest / max(h, w))
    ih = -(-scaled_side(h, scale) // multiple) * multiple
    iw = -(-scaled_side(w, scale) // multiple) * multiple
    return scale, ih, iw


def scaled_side(side: int, scale: float) -> int:
    """A side of the frame scaled, never to 0 px (a strip 1 px high scaled by 0.1)."""
    return max(1, round(side * scale))


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
