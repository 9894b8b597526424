"""Levelling a plate photographed from above and to the side (issue 25), before the OCR.

A camera set above and beside the lane sees a plate as a parallelogram, or a perspective
quadrilateral: its top and bottom edges slope, its characters stay upright. Cut to its
bounding box, such a plate sits on a slant in the crop, with background in two corners, and
the OCR, which learned level plates, reads it worse (the real crops sloped 5 degrees or
more read their province 0.703, the others 0.907: docs/recognition.md).

Chinese plates have a coloured ground (blue with white characters, yellow, green
new-energy), which stands out by its hue. The ground's top and bottom edges are found column
by column (the first and last ground pixel of each column whose edge lies inside the image),
a straight line is fitted to each, and when the two lines slope alike and by
`MIN_SLOPE_DEGREES` or more, the quadrilateral between them is warped onto the crop's own
rectangle (`level`): the plate then fills the crop's height, as a level plate cut tight does.
When the ground is not found, or the edges disagree, or the plate is level, nothing is done.
Pure OpenCV and numpy; no model here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# The crop is searched at this width (a 94 x 24 crop four times its size: its edges fall
# between pixels; a large photograph scaled down: the search costs the same for any size).
WORK_WIDTH = 376

# A plate's ground, in OpenCV's HSV (hue 0-180): (hue from, hue to, saturation at least,
# value at least). White plates are not found (no hue of their own): they are read as cut.
# Blue is measured on the real crops; yellow and green (Vietnamese yellow plates too) only on
# the renderers' plates, there being no real photograph of them here.
GROUNDS = (
    (95, 135, 70, 40),  # blue
    (15, 35, 90, 70),  # yellow
    (40, 90, 60, 40),  # green (new energy)
)

# The ground must cover this share of the crop's middle rows to be taken for the plate's
# (chosen on the even half of the real crops: 0, 0.15 and 0.3 read 0.740, 0.740, 0.733).
MIN_GROUND_SHARE = 0.15

# An edge line needs this many columns (at `WORK_WIDTH`) where the edge is inside the crop.
MIN_EDGE_COLUMNS = 8

# Levelled only when the plate slopes this much or more (the mean of its two edges); a
# level plate is read as cut. Chosen on the even half of the real crops, 2026-12-06
# (2, 3 and 4 degrees: 0.740, 0.740, 0.733; 3 touches fewer crops).
MIN_SLOPE_DEGREES = 3.0

# The top and bottom edges' slopes (tangents) may differ by this much: more, and one of the
# lines is not the plate's edge (a bumper, a shadow). Chosen on the even half of the real
# crops (0.05, 0.08, 0.15 read it alike; 0.05 lost the fewest reads it had).
MAX_SLOPE_GAP = 0.05

Line = tuple[float, float]  # y = slope * x + intercept, in the crop's pixels


@dataclass(frozen=True, slots=True)
class PlateEdges:
    """The plate's top and bottom edges as lines in the crop's pixels, and its slope."""

    top: Line
    bottom: Line

    @property
    def degrees(self) -> float:
        """The plate's slope, the mean of its two edges', in degrees (positive: down to the
        right, in image rows)."""
        return math.degrees(math.atan((self.top[0] + self.bottom[0]) / 2))

    def corners(self, width: int) -> np.ndarray:
        """Top left, top right, bottom right, bottom left (x, y) at the crop's left and right
        sides (`width` its width), float32 4 x 2."""
        (top_slope, top_b), (bottom_slope, bottom_b) = self.top, self.bottom
        return np.array(
            [
                [0, top_b],
                [width, top_slope * width + top_b],
                [width, bottom_slope * width + bottom_b],
                [0, bottom_b],
            ],
            np.float32,
        )


def _ground(big: np.ndarray) -> np.ndarray | None:
    """The plate's ground in `big` (a boolean mask), by the first colour in `GROUNDS` that
    covers `MIN_GROUND_SHARE` of its middle rows; None when none does."""
    hsv = cv2.cvtColor(big, cv2.COLOR_BGR2HSV)
    h = big.shape[0]
    for hue_from, hue_to, saturation, value in GROUNDS:
        mask = (
            (hsv[..., 0] >= hue_from)
            & (hsv[..., 0] <= hue_to)
            & (hsv[..., 1] >= saturation)
            & (hsv[..., 2] >= value)
        )
        if mask[h // 4 : h - h // 4].mean() >= MIN_GROUND_SHARE:
            closed = cv2.morphologyEx(
                mask.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8)
            )
            return closed.astype(bool)
    return None


def _fit(xs: list[float], ys: list[float]) -> Line | None:
    """A line through the points, fitted twice: the second time without the 30% farthest
    from the first (characters touching the edge, a rivet)."""
    if len(xs) < MIN_EDGE_COLUMNS:
        return None
    x, y = np.asarray(xs), np.asarray(ys)
    slope, b = np.polyfit(x, y, 1)
    off = np.abs(y - (slope * x + b))
    near = off <= max(1.0, float(np.percentile(off, 70)))
    if near.sum() < MIN_EDGE_COLUMNS:
        return None
    slope, b = np.polyfit(x[near], y[near], 1)
    return float(slope), float(b)


def plate_edges(image: np.ndarray) -> PlateEdges | None:
    """The top and bottom edges of the plate's coloured ground in a BGR crop, when both are
    found and slope alike (one edge outside the crop: taken parallel to the other, a crop's
    height away); None otherwise."""
    scale = WORK_WIDTH / image.shape[1]
    big = cv2.resize(
        image,
        (WORK_WIDTH, max(1, round(image.shape[0] * scale))),
        interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA,
    )
    ground = _ground(big)
    if ground is None:
        return None
    h, w = ground.shape
    top_x: list[float] = []
    top_y: list[float] = []
    bottom_x: list[float] = []
    bottom_y: list[float] = []
    for x in range(0, w, 2):
        rows = np.flatnonzero(ground[:, x])
        if len(rows) < 0.3 * h:
            continue
        if rows[0] > 1:
            top_x.append(x)
            top_y.append(float(rows[0]))
        if rows[-1] < h - 2:
            bottom_x.append(x)
            bottom_y.append(float(rows[-1] + 1))
    top, bottom = _fit(top_x, top_y), _fit(bottom_x, bottom_y)
    if top is None and bottom is not None:
        top = (bottom[0], bottom[1] - h)
    elif bottom is None and top is not None:
        bottom = (top[0], top[1] + h)
    if top is None or bottom is None or abs(top[0] - bottom[0]) > MAX_SLOPE_GAP:
        return None
    # back to the crop's pixels: x and y scale alike, so only the intercepts change
    return PlateEdges((top[0], top[1] / scale), (bottom[0], bottom[1] / scale))


def level(image: np.ndarray) -> np.ndarray | None:
    """A BGR plate crop whose plate slopes `MIN_SLOPE_DEGREES` or more, warped so that its
    plate's edges run along the crop's top and bottom (the crop's size kept); None when the
    plate is level or its edges are not found (`plate_edges`): read it as cut."""
    edges = plate_edges(image)
    if edges is None or abs(edges.degrees) < MIN_SLOPE_DEGREES:
        return None
    height, width = image.shape[:2]
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    warp = cv2.getPerspectiveTransform(edges.corners(width), target)
    return cv2.warpPerspective(
        image, warp, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
