"""The full-frame detector's geometry and decoding (issue 25): the pass's input size and
its resize, non-maximum suppression and the decoding of the size-free heads.
Deterministic, no model (the model-level checks are in test_recognition)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from plate_recognition.frame_detector import shrink
from plate_recognition.heads import BINS, decode
from plate_recognition.tiling import nms, pass_shape


@pytest.mark.parametrize(
    ("h", "w", "longest", "expected"),
    [
        (1080, 1920, 512, (512 / 1920, 288, 512)),
        (720, 1280, 512, (0.4, 288, 512)),
        (1160, 720, 512, (512 / 1160, 512, 320)),  # portrait: 318 px wide, padded to 320
        (360, 480, 512, (1.0, 384, 480)),  # never enlarged
        # a line a pixel high (a scanner's strip, a broken header): it scaled to 0 rows, an
        # empty input the network refused
        (1, 5000, 512, (512 / 5000, 32, 512)),
        (5000, 1, 512, (512 / 5000, 512, 32)),
    ],
)
def test_pass_shape(h: int, w: int, longest: int, expected: tuple[float, int, int]) -> None:
    scale, ih, iw = pass_shape(h, w, longest)
    assert scale == pytest.approx(expected[0])
    assert (ih, iw) == expected[1:]
    assert ih % 32 == 0 and iw % 32 == 0
    assert ih >= round(h * scale) and iw >= round(w * scale)


def test_nms_keeps_the_best_of_each_cluster_best_first() -> None:
    boxes = np.array(
        [
            [0, 0, 100, 30],  # plate, second pass
            [2, 1, 101, 31],  # the same plate, higher score
            [500, 400, 600, 430],  # another object
            [0, 0, 100, 30],  # exact duplicate of the first, same score as it
        ],
        np.float32,
    )
    scores = np.array([0.6, 0.9, 0.7, 0.6], np.float32)
    assert nms(boxes, scores, 0.5) == [1, 2]
    assert nms(boxes, scores, 1.0) == [1, 2, 0, 3]  # nothing overlaps by more than 1
    assert nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.5) == []


def test_nms_breaks_equal_scores_by_index() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11]], np.float32)
    assert nms(boxes, np.array([0.5, 0.5], np.float32), 0.3) == [0]


def _heads(h: int, w: int) -> list[np.ndarray]:
    """Raw heads for a 8h x 8w input with no object: every logit very low."""
    outputs = []
    for stride in (8, 16, 32):
        gh, gw = h * 8 // stride, w * 8 // stride
        outputs += [np.zeros((1, 4 * BINS, gh, gw), np.float32), np.full((1, 1, gh, gw), -20.0)]
    return outputs


def test_decode_one_cell() -> None:
    outputs = _heads(8, 16)  # a 64 x 128 input
    box, cls = outputs[2], outputs[3]  # stride 16: a 4 x 8 grid
    cls[0, 0, 2, 5] = 3.0
    for side, distance in enumerate((2, 1, 3, 0)):  # left, top, right, bottom, in strides
        box[0, side * BINS + distance, 2, 5] = 50.0  # all the mass on one bin
    boxes, scores = decode(outputs, conf=0.5)
    assert scores == pytest.approx([1 / (1 + np.exp(-3.0))])
    cx, cy = (5 + 0.5) * 16, (2 + 0.5) * 16
    assert boxes[0] == pytest.approx([cx - 32, cy - 16, cx + 48, cy], abs=1e-3)


def test_decode_threshold_and_empty() -> None:
    outputs = _heads(4, 4)
    boxes, scores = decode(outputs, conf=0.5)
    assert boxes.shape == (0, 4) and scores.shape == (0,)
    outputs[1][0, 0, 0, 0] = 0.1  # sigmoid 0.525
    assert len(decode(outputs, conf=0.5)[0]) == 1
    assert len(decode(outputs, conf=0.6)[0]) == 0


def test_shrink_is_close_to_an_area_resize() -> None:
    rng = np.random.default_rng(7)
    small = rng.integers(0, 256, (270, 480, 3), dtype=np.uint8)
    image = cv2.resize(small, (1920, 1080), interpolation=cv2.INTER_CUBIC)  # smooth-ish
    image[500:540, 900:1100] = 255  # a bright plate-sized bar: must survive the shrink
    got = shrink(image, 512, 288).astype(np.float32)
    want = cv2.resize(image, (512, 288), interpolation=cv2.INTER_AREA).astype(np.float32)
    assert got.shape == (288, 512, 3)
    assert np.abs(got - want).mean() < 2.0
    assert np.array_equal(
        shrink(small, 240, 135), cv2.resize(small, (240, 135), interpolation=cv2.INTER_AREA)
    )
