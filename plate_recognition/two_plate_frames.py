"""Seeded lane-camera frames holding two plates: the truck at the barrier and another in the
next lane, queued a little behind it (its plate 0.6 to 1 times the first's width), as a gate
camera sees two trucks at once. Landscape frames only (1920 x 1080, 1280 x 720): the two
fronts side by side do not fit a portrait frame's width. Drawn with `camera_frames`' pieces
(truck fronts, plates of both renderers, boards of text that are not plates, day / night /
infrared, blur, JPEG). Pure function of the seed; evaluation seeds start at 5,500,000 (the
frame detector trains on 3,100,000..; one-plate frames are evaluated from 5,000,000).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from plate_recognition.camera_frames import (
    RESOLUTIONS,
    finish,
    light,
    place_plate,
    plate_image,
    truck_front,
)
from plate_recognition.frame_clutter import background, distractors, gate, side_vehicle
from plate_recognition.plates import PlateSpec

Box = tuple[float, float, float, float]
NEAR_PLATE_1080 = (110.0, 190.0)  # px at 1080p, the truck at the barrier
FAR_SHARE = (0.6, 1.0)  # the other truck's plate, a share of the first's width
TWO_PLATE_RESOLUTIONS = ("1080p", "720p")


@dataclass(frozen=True, slots=True)
class TwoPlateFrame:
    image: np.ndarray  # BGR uint8, the JPEG decoded
    jpeg: bytes
    plates: tuple[PlateSpec, PlateSpec]  # the nearer truck's first
    boxes: tuple[Box, Box]  # each plate's x1, y1, x2, y2 in pixels
    lighting: str
    drawn_by: tuple[str, str]


def render_two_plate_frame(seed: int, resolution: str = "1080p") -> TwoPlateFrame:
    """One seeded frame with two trucks' plates, neither hiding the other."""
    if resolution not in TWO_PLATE_RESOLUTIONS:
        raise ValueError(f"two-plate frames are drawn at {TWO_PLATE_RESOLUTIONS}, not {resolution}")
    rng = random.Random(seed)
    w, h = RESOLUTIONS[resolution]
    scale = min(w, h) / 1080
    near_w = rng.uniform(*NEAR_PLATE_1080) * scale
    far_w = near_w * rng.uniform(*FAR_SHARE)
    near_tw, far_tw = near_w * rng.uniform(4.5, 6.0), far_w * rng.uniform(4.5, 6.0)
    # laid out with the nearer truck on the right, then mirrored half the time: the far
    # plate (within 0.15 of its truck's width of the truck's centre, plus its own half
    # width) clear of the frame's edge and of the nearer truck's body
    far_reach = 0.15 * far_tw + 0.6 * far_w
    far_x = far_reach + rng.uniform(10, 40) * scale
    near_left = far_x + far_reach + 20 * scale
    slack = w - 10 - (near_left + 0.65 * near_tw + 0.6 * near_w)
    near_x = near_left + rng.uniform(0, max(0.0, slack)) + near_tw / 2
    if rng.random() < 0.5:
        far_x, near_x = w - far_x, w - near_x
    img = background(rng, w, h)
    gate(rng, img)
    if rng.random() < 0.5:
        side_vehicle(rng, img)
    specs, boxes, drawers = [], [], []
    for plate_w, truck_w, x, bumper in (
        (far_w, far_tw, far_x, rng.uniform(0.45, 0.7)),  # drawn first: the nearer one over it
        (near_w, near_tw, near_x, rng.uniform(0.6, 0.88)),
    ):
        plate, spec, drawn_by = plate_image(rng, plate_w)
        centre = truck_front(rng, img, plate_w, truck_w, (x, bumper * h))
        boxes.append(place_plate(rng, img, plate, centre, plate_w))
        specs.append(spec)
        drawers.append(drawn_by)
    avoid = [(int(b[0]), int(b[1]), int(b[2]), int(b[3])) for b in boxes]
    distractors(rng, img, scale * rng.uniform(1.0, 2.0), avoid, rng.randint(3, 8))
    img, lighting = light(rng, img, boxes)
    decoded, jpeg = finish(rng, img, scale)
    return TwoPlateFrame(
        decoded,
        jpeg,
        (specs[1], specs[0]),
        (boxes[1], boxes[0]),
        lighting,
        (drawers[1], drawers[0]),
    )
